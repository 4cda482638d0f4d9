"""Jobs are queued after the events they print have committed, one per printer that must print
them, and the request that made the event never talks to a printer."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders import services as order_services
from orders.models import OrderLine
from printing import services
from printing.models import Printer, PrintJob
from restaurant.lib.errors import Code, Refused


def order(tab, menu, key="first", hold_fish=False):
    return order_services.order_submit(
        tab=tab,
        key=key,
        guests=4,
        lines=[
            order_services.LineRequest(dish=menu["cucumber"].pk, quantity=2),
            order_services.LineRequest(
                dish=menu["chicken"].pk,
                options=[menu["mild"].pk, menu["peanuts"].pk],
                note="不要香菜",
            ),
            order_services.LineRequest(dish=menu["fish"].pk, hold=hold_fish),
        ],
    )[0]


def jobs_of(printer):
    return list(PrintJob.objects.filter(printer=printer).order_by("sequence"))


@pytest.mark.django_db
def test_a_new_order_queues_one_ticket_per_station_and_a_pass_ticket(table, menu, kitchen, commits):
    tab = order_services.tab_for_table(table=table)
    with commits():
        first = order(tab, menu, hold_fish=True)
    printers = kitchen["printer"]
    (hot,) = jobs_of(printers["hot"])
    assert hot.kind == "ticket" and hot.sequence == 1 and hot.order_id == first.pk
    assert hot.payload["table"] == "A1" and hot.payload["round"] == 1
    assert hot.payload["station"] == "热菜"
    assert [(x["name"], x["quantity"], x["held"]) for x in hot.payload["lines"]] == [
        ("宫保鸡丁", 1, False),
        ("清蒸鲈鱼", 1, True),
    ]
    assert hot.payload["lines"][0]["options"] == ["微辣", "加花生"]
    assert hot.payload["lines"][0]["note"] == "不要香菜"
    (cold,) = jobs_of(printers["cold"])
    assert [(x["name"], x["quantity"]) for x in cold.payload["lines"]] == [("拍黄瓜", 2)]
    (whole,) = jobs_of(printers["pass_"])
    assert whole.kind == "pass" and len(whole.payload["lines"]) == 3
    assert jobs_of(printers["till"]) == []
    assert {job.status for job in PrintJob.objects.all()} == {"queued"}


@pytest.mark.django_db
def test_an_add_on_round_is_an_add_on_ticket_numbered_after_the_first(
    table, menu, kitchen, commits
):
    tab = order_services.tab_for_table(table=table)
    with commits():
        order(tab, menu)
    with commits():
        order_services.order_submit(
            tab=tab,
            key="more",
            lines=[order_services.LineRequest(dish=menu["chicken"].pk, options=[menu["hot"].pk])],
        )
    hot = jobs_of(kitchen["printer"]["hot"])
    assert [(job.sequence, job.kind, job.payload["round"]) for job in hot] == [
        (1, "ticket", 1),
        (2, "addon", 2),
    ]
    assert len(jobs_of(kitchen["printer"]["cold"])) == 1  # nothing of the cold station in round 2


@pytest.mark.django_db
def test_urge_void_and_fire_print_a_slip_on_the_station_that_must_act(
    table, menu, kitchen, cashier, commits
):
    tab = order_services.tab_for_table(table=table)
    with commits():
        first = order(tab, menu, hold_fish=True)
    chicken, fish = (
        first.lines.get(name="宫保鸡丁"),
        first.lines.get(name="清蒸鲈鱼"),
    )
    cucumber = first.lines.get(name="拍黄瓜")
    with commits():
        order_services.line_urge(tab=tab, line_id=chicken.pk)
    with commits():
        order_services.line_set_status(
            line_id=fish.pk, status=OrderLine.Status.QUEUED, expect=OrderLine.Status.HELD
        )
    with commits():
        order_services.line_void(line_id=cucumber.pk, reason="客人不要了", user=cashier)
    hot = jobs_of(kitchen["printer"]["hot"])
    assert [job.kind for job in hot] == ["ticket", "urge", "fire"]
    assert hot[1].payload["line"]["name"] == "宫保鸡丁" and hot[1].payload["urges"] == 1
    assert hot[2].payload["line"]["name"] == "清蒸鲈鱼"
    cold = jobs_of(kitchen["printer"]["cold"])
    assert [job.kind for job in cold] == ["ticket", "void"]
    assert cold[1].payload["reason"] == "客人不要了" and cold[1].payload["old"] == "queued"
    # Slips go to the station only, not to the pass or the till.
    assert [job.kind for job in jobs_of(kitchen["printer"]["pass_"])] == ["pass"]


@pytest.mark.django_db
def test_a_served_dish_voided_prints_nothing_in_the_kitchen(table, menu, kitchen, manager, commits):
    tab = order_services.tab_for_table(table=table)
    with commits():
        first = order(tab, menu)
    cucumber = first.lines.get(name="拍黄瓜")
    OrderLine.objects.filter(pk=cucumber.pk).update(status="served")
    with commits():
        order_services.line_void(line_id=cucumber.pk, reason="不好吃", user=manager)
    assert [job.kind for job in jobs_of(kitchen["printer"]["cold"])] == ["ticket"]


@pytest.mark.django_db
def test_pay_first_prints_an_order_once_it_is_paid(table, menu, kitchen, settings, commits):
    settings.SERVICE_FLOW = "pay_first"
    tab = order_services.tab_for_table(table=table)
    with commits():
        first = order(tab, menu)
    assert PrintJob.objects.count() == 0  # the kitchen does not see an unpaid order
    with commits():
        order_services.orders_release(tab_id=tab.pk)
    assert {job.order_id for job in PrintJob.objects.all()} == {first.pk}
    assert PrintJob.objects.count() == 3


@pytest.mark.django_db
def test_an_inactive_printer_and_a_station_without_printers_get_nothing(
    table, menu, kitchen, commits
):
    kitchen["printer"]["cold"].active = False
    kitchen["printer"]["cold"].save()
    tab = order_services.tab_for_table(table=table)
    with commits():
        order(tab, menu)
    assert jobs_of(kitchen["printer"]["cold"]) == []
    assert len(jobs_of(kitchen["printer"]["hot"])) == 1


@pytest.mark.django_db
def test_queueing_is_a_few_queries_and_no_printer_is_reached(table, menu, kitchen, commits):
    """What the order's request does for printing after its commit: reads and inserts, no I/O."""
    tab = order_services.tab_for_table(table=table)
    first = order(tab, menu)  # no commit callbacks: nothing queued yet
    assert PrintJob.objects.count() == 0
    with CaptureQueriesContext(connection) as queries:
        services.order_tickets_queue(order_id=first.pk)
    assert PrintJob.objects.count() == 3
    assert len(queries) <= 20
    assert all(fake.bytes_read == 0 and fake.connections == 0 for fake in kitchen["fake"].values())


@pytest.mark.django_db
def test_numbers_are_per_printer_and_never_taken_twice(table, menu, kitchen, commits):
    tab = order_services.tab_for_table(table=table)
    for n in range(3):
        with commits():
            order_services.order_submit(
                tab=tab,
                key=f"k{n}",
                guests=2,
                lines=[order_services.LineRequest(dish=menu["cucumber"].pk)],
            )
    assert [job.sequence for job in jobs_of(kitchen["printer"]["cold"])] == [1, 2, 3]
    assert [job.sequence for job in jobs_of(kitchen["printer"]["pass_"])] == [1, 2, 3]


@pytest.mark.django_db
def test_a_shop_without_printers_pays_one_query_per_order(table, menu, commits):
    tab = order_services.tab_for_table(table=table)
    first = order(tab, menu)
    line = first.lines.first()
    with CaptureQueriesContext(connection) as queries:
        assert services.order_tickets_queue(order_id=first.pk) == []
        assert services.line_slip_queue(line_id=line.pk, kind="urge") == []
    assert len(queries) == 2


@pytest.mark.django_db
def test_jobs_do_not_move_off_a_printer_a_worker_is_sending_to(table, menu, kitchen, commits):
    """A worker holds a printer (its claim) while it sends: a job moved then could come out of
    both printers, so the move waits until the worker lets go."""
    tab = order_services.tab_for_table(table=table)
    with commits():
        order(tab, menu)
    hot, cold = kitchen["printer"]["hot"], kitchen["printer"]["cold"]
    Printer.objects.filter(pk=hot.pk).update(
        claimed_until=timezone.now() + timedelta(seconds=60), claimed_by="a-worker"
    )
    with pytest.raises(Refused) as busy:
        services.jobs_move(from_printer_id=hot.pk, to_printer_id=cold.pk)
    assert busy.value.code == Code.PRINTER_BUSY
    assert PrintJob.objects.filter(printer=hot).count() == 1
    Printer.objects.filter(pk=hot.pk).update(claimed_until=None, claimed_by="")  # it let go
    assert services.jobs_move(from_printer_id=hot.pk, to_printer_id=cold.pk) == 1
    assert PrintJob.objects.filter(printer=hot).count() == 0
