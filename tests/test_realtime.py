"""The realtime kernel: events leave the request unrendered, numbered per stream; screens render
each event once per process and language, and heal from a gap in the numbers."""

import os
import re
import subprocess
import sys

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction
from django.http import HttpResponse
from django.test.signals import template_rendered

from orders import realtime, services
from orders.models import CartItem
from restaurant.lib import realtime as kernel
from tests.live import ROOT
from tests.sockets import connect, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def submit(table, dish, key):
    tab = services.tab_for_table(table=table)
    return services.order_submit(
        tab=tab, key=key, guests=2, lines=[services.LineRequest(dish=dish.pk)]
    )[0]


def test_numbers_grow_by_one_per_event_and_stream():
    first = kernel.next_seqs({"test.a": 1, "test.b": 2})
    second = kernel.next_seqs({"test.a": 1, "test.b": 1})
    assert second == {"test.a": first["test.a"] + 1, "test.b": first["test.b"] + 1}
    assert kernel.current_seqs(["test.a", "test.b"]) == second


def test_numbers_are_shared_by_every_process(needs_redis):
    before = kernel.current_seqs(["test.shared"])["test.shared"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "restaurant.settings", "DEBUG": "true"}
    code = (
        "import django; django.setup(); from restaurant.lib import realtime;"
        "print(realtime.next_seqs({'test.shared': 3})['test.shared'])"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert int(other.stdout.strip()) == before + 3
    assert kernel.next_seqs({"test.shared": 1})["test.shared"] == before + 4


@pytest.mark.asyncio
async def test_a_transactions_events_leave_once_after_commit_numbered_in_order():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("test.tx", channel)
    start = (await sync_to_async(kernel.current_seqs)(["test.tx"]))["test.tx"]

    @sync_to_async
    def work():
        with transaction.atomic():
            kernel.publish_on_commit("test.tx", kind="a", id=1)
            kernel.publish_on_commit("test.tx", kind="a", id=1)  # the same event: once
            kernel.publish_on_commit("test.tx", kind="b", id=1)
            assert kernel.current_seqs(["test.tx"])["test.tx"] == start  # nothing before commit
        with transaction.atomic():
            kernel.publish_on_commit("test.tx", kind="lost")
            transaction.set_rollback(True)

    await work()
    first, second = await layer.receive(channel), await layer.receive(channel)
    assert (first["kind"], first["seq"]) == ("a", start + 1)
    assert (second["kind"], second["seq"]) == ("b", start + 2)
    assert "html" not in first and first["type"] == "stream.event"
    assert (await sync_to_async(kernel.current_seqs)(["test.tx"]))["test.tx"] == start + 2


def test_an_order_renders_nothing_in_its_request(client, table, menu):
    """The request publishes events after commit; no template is rendered for a push."""
    rendered = []

    def record(sender, template, **kwargs):
        rendered.append(template.name)

    page = client.get(f"/t/{table.token}/")
    assert page.status_code == 200
    template_rendered.connect(record)
    try:
        before = kernel.current_seqs([realtime.KITCHEN])[realtime.KITCHEN]
        submit(table, menu["cucumber"], "quiet")  # commits, runs its on_commit callbacks
    finally:
        template_rendered.disconnect(record)
    assert kernel.current_seqs([realtime.KITCHEN])[realtime.KITCHEN] == before + 1
    assert rendered == []


@pytest.mark.asyncio
async def test_an_event_is_rendered_once_per_process_board_and_language(cook, table, menu):
    cookie = await sync_to_async(session_cookie)(cook)
    screens = []
    for path in ["/ws/kitchen/"] * 3 + ["/ws/kitchen/?lang=en"] * 2 + ["/ws/kitchen/cold/"]:
        screen, connected, _ = await connect(path, cookie)
        assert connected
        await screen.receive_from(timeout=5)
        screens.append(screen)
    before = kernel.memo.renders
    placed = await sync_to_async(submit)(table, menu["cucumber"], "once")
    pushed = [await screen.receive_from(timeout=5) for screen in screens]
    # all stations in Chinese, in English, the cold station in Chinese: three renders, not six
    assert kernel.memo.renders - before == 3
    seq = (await sync_to_async(kernel.current_seqs)([realtime.KITCHEN]))[realtime.KITCHEN]
    for html in pushed:
        assert f'id="ticket-{placed.pk}"' in html
        assert f'data-stream="kitchen" data-seq="{seq}"' in html
    assert pushed[0] == pushed[1] == pushed[2] != pushed[3]
    assert "Smashed cucumber" in pushed[3]
    for screen in screens:
        await screen.disconnect()


@pytest.mark.asyncio
async def test_a_screen_that_misses_an_event_gets_the_whole_state(cook, table, other_table, menu):
    """A number that never comes (a dropped message, and nothing in the log to replay) makes
    the consumer send the whole board; the events after it are shown meanwhile."""
    screen, connected, _ = await connect("/ws/kitchen/", await sync_to_async(session_cookie)(cook))
    assert connected
    await screen.receive_from(timeout=5)
    missed = await sync_to_async(submit)(other_table, menu["fish"], "missed")
    first = await screen.receive_from(timeout=5)
    assert 'hx-swap-oob="beforeend:#tickets"' in first and f'id="ticket-{missed.pk}"' in first
    # An event numbered but never delivered nor logged: a lost message whose log is gone.
    hole = (await sync_to_async(kernel.next_seqs)({realtime.KITCHEN: 1}))[realtime.KITCHEN]
    placed = await sync_to_async(submit)(table, menu["cucumber"], "next")
    received = [await screen.receive_from(timeout=5)]
    while 'id="board"' not in received[-1]:
        received.append(await screen.receive_from(timeout=3))
    healed = received[-1]
    assert f'id="ticket-{missed.pk}"' in healed
    assert int(re.search(r'data-seq="(\d+)"', healed).group(1)) >= hole  # past the lost number
    # The order after the hole is shown, in the healed board or as its own event.
    assert any(f'id="ticket-{placed.pk}"' in html for html in received) or (
        f'id="ticket-{placed.pk}"' in await screen.receive_from(timeout=3)
    )
    await screen.disconnect()


@pytest.mark.asyncio
async def test_events_out_of_order_are_shown_without_a_heal(cook, table, menu):
    """Two requests numbered 5 and 6 may send 6 first: both are shown, and nothing is healed."""
    screen, connected, _ = await connect("/ws/kitchen/", await sync_to_async(session_cookie)(cook))
    assert connected
    await screen.receive_from(timeout=5)
    placed = await sync_to_async(submit)(table, menu["cucumber"], "late")
    seq = (await sync_to_async(kernel.current_seqs)([realtime.KITCHEN]))[realtime.KITCHEN]
    await screen.receive_from(timeout=5)
    layer = get_channel_layer()
    base = {"type": "stream.event", "stream": realtime.KITCHEN, "kind": "ticket"}
    await sync_to_async(kernel.next_seqs)({realtime.KITCHEN: 2})
    for n in (seq + 2, seq + 1):
        event = {**base, "seq": n, "id": f"x{n}", "order": placed.pk, "added": False}
        await layer.group_send(realtime.KITCHEN, event)
    ahead, behind = await screen.receive_from(timeout=5), await screen.receive_from(timeout=5)
    assert f'data-seq="{seq}"' in ahead  # 2 ahead of its turn: the screen has all up to seq
    assert f'data-seq="{seq + 2}"' in behind
    assert 'id="board"' not in ahead + behind
    assert await screen.receive_nothing(timeout=1)
    await screen.disconnect()


@pytest.mark.asyncio
async def test_a_lost_event_is_replayed_from_the_log_not_healed_with_the_whole_state(
    cook, table, menu
):
    """An event that was published (numbered and logged) but never reached this screen: the
    screen renders just that event from the stream's log, not the whole board."""
    screen, connected, _ = await connect("/ws/kitchen/", await sync_to_async(session_cookie)(cook))
    assert connected
    await screen.receive_from(timeout=5)
    placed = await sync_to_async(submit)(table, menu["cucumber"], "logged")
    await screen.receive_from(timeout=5)

    @sync_to_async
    def publish_but_lose():
        message = {"type": "stream.event", "stream": realtime.KITCHEN, "kind": "ticket",
                   "order": placed.pk, "added": True, "id": "lost1"}  # fmt: skip
        return kernel.number_and_log({realtime.KITCHEN: [message]})[realtime.KITCHEN]  # not sent

    seq = await publish_but_lose()
    renders = kernel.memo.renders
    replayed = await screen.receive_from(timeout=2)
    assert f'id="ticket-{placed.pk}"' in replayed
    assert 'id="board"' not in replayed
    assert f'data-stream="kitchen" data-seq="{seq}"' in replayed
    assert kernel.memo.renders - renders == 1  # that one event, nothing more
    assert await screen.receive_nothing(timeout=1)
    await screen.disconnect()


@pytest.mark.asyncio
async def test_a_dropped_last_event_heals_within_two_seconds(table, menu):
    phone, connected, _ = await connect(f"/ws/t/{table.token}/")
    assert connected
    await phone.receive_from(timeout=5)
    tab = await sync_to_async(services.tab_for_table)(table=table)

    @sync_to_async
    def add_unannounced():
        # The cart changes and its event is numbered, but the message is lost on the way.
        CartItem.objects.create(tab=tab, dish=menu["cucumber"], quantity=1)
        kernel.next_seqs({realtime.tab_group(tab.pk): 1})

    await add_unannounced()
    healed = await phone.receive_from(timeout=2)
    assert 'id="cart"' in healed and "拍黄瓜" in healed
    await phone.disconnect()


def test_a_requests_events_leave_after_its_answer(rf):
    """So a POST answers no later than its screens hear of it."""
    start = kernel.current_seqs(["test.held"])["test.held"]

    def view(request):
        kernel.publish([("test.held", {"kind": "x"})])
        assert kernel.current_seqs(["test.held"])["test.held"] == start  # held
        return HttpResponse("answered")

    response = kernel.HoldEventsUntilAnswered(view)(rf.post("/"))
    assert kernel.current_seqs(["test.held"])["test.held"] == start
    response.close()  # what the server does once the answer is sent
    assert kernel.current_seqs(["test.held"])["test.held"] == start + 1
    kernel.publish([("test.held", {"kind": "y"})])  # outside a request: at once
    assert kernel.current_seqs(["test.held"])["test.held"] == start + 2
