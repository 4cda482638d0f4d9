"""What staff see and press: the cashier's bill and receipt buttons, the print queue page (reprint,
move a dead printer's jobs), the admin's printers, and the alert that every kitchen and cashier
screen shows live while a printer fails."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from orders import services as order_services
from printing import sender
from printing.models import Printer, PrintJob
from tests.sockets import connect, session_cookie


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def seated(table, menu, commits):
    tab = order_services.tab_for_table(table=table)
    with commits():
        order_services.order_submit(
            tab=tab,
            key="k",
            guests=2,
            lines=[
                order_services.LineRequest(dish=menu["cucumber"].pk),
                order_services.LineRequest(dish=menu["chicken"].pk, options=[menu["mild"].pk]),
            ],
        )
    return tab


@pytest.mark.django_db
def test_the_cashier_prints_the_bill_and_the_receipt_on_the_till_printer(
    table, menu, kitchen, cashier, commits
):
    tab = seated(table, menu, commits)
    client = logged_in(cashier)
    page = client.get(f"/cashier/?tab={tab.pk}").content.decode()
    assert f"/printing/tabs/{tab.pk}/prebill/" in page and "打印结账单" in page
    assert f"/printing/tabs/{tab.pk}/receipt/" in page and "打印小票" in page
    answer = client.post(f"/printing/tabs/{tab.pk}/prebill/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and "已发送到 收银打印机。" in answer.content.decode()
    answer = client.post(f"/printing/tabs/{tab.pk}/receipt/")  # a plain form: back to the bill
    assert answer.status_code == 302 and answer["Location"] == f"/cashier/?tab={tab.pk}"
    jobs = PrintJob.objects.filter(printer=kitchen["printer"]["till"]).order_by("sequence")
    assert [job.kind for job in jobs] == ["prebill", "receipt"]
    sender.print_jobs_send()
    bill, receipt = kitchen["fake"]["till"].documents
    assert "结账单（未付款）" in bill.text and "收款小票" in receipt.text


@pytest.mark.django_db
def test_without_a_till_printer_there_is_no_button_and_printing_is_refused(
    table, menu, cashier, commits
):
    tab = seated(table, menu, commits)
    client = logged_in(cashier)
    assert "/printing/tabs/" not in client.get(f"/cashier/?tab={tab.pk}").content.decode()
    answer = client.post(f"/printing/tabs/{tab.pk}/receipt/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 409
    assert "还没有设置收银打印机" in answer.content.decode()
    assert PrintJob.objects.count() == 0


@pytest.mark.django_db
def test_only_staff_reach_printing(table, menu, kitchen, cook, outsider, commits):
    tab = seated(table, menu, commits)
    assert Client().get("/printing/").status_code == 302  # to the login page
    assert logged_in(outsider).get("/printing/").status_code == 403
    assert logged_in(cook).post(f"/printing/tabs/{tab.pk}/receipt/").status_code == 403
    job = PrintJob.objects.first()
    assert logged_in(outsider).post(f"/printing/jobs/{job.pk}/reprint/").status_code == 403
    assert PrintJob.objects.count() == 3  # nothing was queued by them


@pytest.mark.django_db
def test_the_print_queue_page_reprints_and_moves_a_dead_printers_jobs(
    table, menu, kitchen, cook, commits
):
    kitchen["fake"]["hot"].power_off()
    seated(table, menu, commits)
    sender.print_jobs_send()
    client = logged_in(cook)
    page = client.get("/printing/").content.decode()
    hot, cold = kitchen["printer"]["hot"], kitchen["printer"]["cold"]
    for name in ("热菜打印机", "凉菜打印机", "传菜打印机", "收银打印机"):
        assert name in page
    assert "连接不上" in page  # the dead one says why
    assert f"/printing/printers/{hot.pk}/move/" in page  # it has a job waiting
    assert f"/printing/printers/{cold.pk}/move/" not in page  # nothing waits on this one
    printed = PrintJob.objects.get(printer=cold)
    answer = client.post(f"/printing/jobs/{printed.pk}/reprint/", HTTP_HX_REQUEST="true")
    assert "已在 凉菜打印机 重新排队。" in answer.content.decode()
    answer = client.post(
        f"/printing/printers/{hot.pk}/move/", {"to": hot.pk}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 400
    answer = client.post(
        f"/printing/printers/{hot.pk}/move/", {"to": cold.pk}, HTTP_HX_REQUEST="true"
    )
    assert "已转移 1 个打印任务。" in answer.content.decode()
    sender.print_jobs_send()
    titles = [d.big_lines()[0] for d in kitchen["fake"]["cold"].documents]
    assert titles == ["凉菜 点菜单", "凉菜 点菜单", "热菜 点菜单"]
    assert "【重印】" in kitchen["fake"]["cold"].documents[1].text


@pytest.mark.django_db
def test_the_manager_sets_printers_up_in_the_admin_and_prints_a_test_page(
    manager, fake_printers, settings
):
    fake = fake_printers()
    manager.is_staff = True  # the admin lets in staff users; the manager role does the rest
    manager.save()
    client = logged_in(manager)
    form = client.get("/admin/printing/printer/add/").content.decode()
    for label in ("纸宽", "字符集", "自动切纸", "传菜打印机", "收银打印机", "档口"):
        assert label in form, label
    answer = client.post(
        "/admin/printing/printer/add/",
        {"name": "吧台", "host": "127.0.0.1", "port": fake.port, "paper": 58,
         "encoding": "gb18030", "cuts": "on", "active": "on"},
    )  # fmt: skip
    assert answer.status_code == 302, answer.content.decode()[:2000]
    printer = Printer.objects.get(name="吧台")
    client.post(
        "/admin/printing/printer/",
        {"action": "print_test_page", "_selected_action": [printer.pk]},
    )
    sender.print_jobs_send()
    (page,) = fake.documents
    assert "宫保鸡丁 ×2（微辣）￥38.00" in page.text.split("\n")
    assert page.qr_codes == [settings.PUBLIC_URL] and page.cut


@pytest.mark.django_db
def test_the_kitchen_and_cashier_screens_carry_the_printer_alert(cook, cashier):
    for user, path in ((cook, "/kitchen/"), (cashier, "/cashier/")):
        page = logged_in(user).get(path).content.decode()
        assert 'ws-connect="/ws/printers/' in page and 'id="printer-alert"' in page
        # The screen's own socket stays the first one (static/js/live.js follows that one).
        assert page.index("ws-connect=") < page.index('ws-connect="/ws/printers/')


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_failing_printer_alerts_the_screens_live_until_it_prints_again(
    table, menu, kitchen, cook, cashier, outsider, commits
):
    outsiders, connected, code = await connect(
        "/ws/printers/", await sync_to_async(session_cookie)(outsider)
    )
    assert not connected and code == 4403
    screens = []
    for user in (cook, cashier):
        screen, connected, _ = await connect(
            "/ws/printers/", await sync_to_async(session_cookie)(user)
        )
        assert connected
        first = alert_of(await screen.receive_from(timeout=5))
        assert 'id="printer-alert"' in first and "hidden" in first  # all printers fine
        screens.append(screen)
    fake = kitchen["fake"]["hot"]
    fake.power_off()
    await sync_to_async(seated)(table, menu, commits)
    await sync_to_async(sender.print_jobs_send)()
    for screen in screens:
        alert = alert_of(await screen.receive_from(timeout=5))
        assert "热菜打印机" in alert and "连接不上" in alert and "1 张单待打印" in alert
        assert 'hx-swap-oob="true"' in alert and " hidden" not in alert
    fake.power_on()
    printed = await sync_to_async(sender.print_jobs_send)(now=await sync_to_async(later)())
    assert printed == 1
    for screen in screens:
        cleared = alert_of(await screen.receive_from(timeout=5))
        assert "热菜打印机" not in cleared and "hidden" in cleared
        await screen.disconnect()


def alert_of(message):
    """The alert of a socket message, without the stream's stamp after it."""
    return message.split('<i id="seq-')[0]


def later():
    """After the first back-off."""
    return timezone.now() + timedelta(seconds=3)
