"""The worker sends print jobs to real sockets: a fake ESC/POS printer on a loopback port reads
the stream as a printer does (tests/printing/fake_printer.py). Every ticket reaches its
station's printer with the right content, a printer that was off prints what it missed in order
and once, two worker copies print each job once, reprints and moves print where they should."""

import json
import time
import urllib.request
from datetime import timedelta
from decimal import Decimal

import pytest
import qrcode
from django.db.models import Sum
from django.utils import timezone
from escpos.printer import Dummy

from orders import services as order_services
from orders.models import OrderLine, Tab
from payments import services as payment_services
from payments.models import Payment
from printing import render, sender, services, transport
from printing.models import Printer, PrintJob
from tests.live import Daphne, Worker

from .fake_printer import FakePrinter


def order(tab, menu, key="first", guests=4):
    return order_services.order_submit(
        tab=tab,
        key=key,
        guests=guests,
        lines=[
            order_services.LineRequest(dish=menu["cucumber"].pk, quantity=2),
            order_services.LineRequest(
                dish=menu["chicken"].pk,
                options=[menu["mild"].pk, menu["peanuts"].pk],
                note="不要香菜",
            ),
            order_services.LineRequest(dish=menu["fish"].pk, hold=True),
        ],
    )[0]


def one_dish(tab, menu, key):
    return order_services.order_submit(
        tab=tab,
        key=key,
        guests=2,
        lines=[order_services.LineRequest(dish=menu["chicken"].pk, options=[menu["hot"].pk])],
    )[0]


@pytest.mark.django_db
def test_every_ticket_of_an_order_reaches_its_stations_printers(table, menu, kitchen, commits):
    tab = order_services.tab_for_table(table=table)
    with commits():
        order(tab, menu)
    assert sender.print_jobs_send() == 3
    fake = kitchen["fake"]
    (hot,) = fake["hot"].documents
    assert hot.big_lines() == [
        "热菜 点菜单",
        "桌号 A1",
        "宫保鸡丁 ×1",
        "  微辣 加花生",
        "  备注：不要香菜",
        "【叫起】清蒸鲈鱼 ×1",
    ]
    assert "流水号 1" in hot.text and "第 1 轮 · 4 人" in hot.text and "共 2 份" in hot.text
    assert "拍黄瓜" not in hot.text
    assert hot.cut and hot.beeps == 1
    # 80 mm paper: 48 columns of normal text, 24 of large.
    assert all(render.width(line.text) <= (24 if line.big else 48) for line in hot.lines)
    (cold,) = fake["cold"].documents
    assert "拍黄瓜 ×2" in cold.big_lines() and "宫保鸡丁" not in cold.text
    assert cold.beeps == 0  # this printer is set not to beep
    # 58 mm paper: 32 columns of normal text, 16 of large (a Chinese character takes two).
    assert all(render.width(line.text) <= (16 if line.big else 32) for line in cold.lines)
    (whole,) = fake["pass_"].documents
    assert whole.big_lines()[0] == "传菜单"
    for dish in ("拍黄瓜 ×2", "宫保鸡丁 ×1", "【叫起】清蒸鲈鱼 ×1"):
        assert dish in whole.text
    assert fake["till"].documents == []
    assert set(PrintJob.objects.values_list("status", flat=True)) == {"sent"}
    assert not PrintJob.objects.filter(sent_at=None).exists()
    # Asked before and after the bytes: online (DLE EOT 1) and paper (DLE EOT 4), twice each.
    assert fake["hot"].status_queries == 4
    assert sender.print_jobs_send() == 0  # nothing is printed twice


@pytest.mark.django_db
def test_slips_for_urge_fire_and_void_print_on_the_station(table, menu, kitchen, cashier, commits):
    tab = order_services.tab_for_table(table=table)
    with commits():
        first = order(tab, menu)
    chicken = first.lines.get(name="宫保鸡丁")
    fish = first.lines.get(name="清蒸鲈鱼")
    with commits():
        order_services.line_urge(tab=tab, line_id=chicken.pk)
    with commits():
        order_services.line_set_status(
            line_id=fish.pk, status=OrderLine.Status.QUEUED, expect=OrderLine.Status.HELD
        )
    with commits():
        order_services.line_void(line_id=chicken.pk, reason="等太久了", user=cashier)
    sender.print_jobs_send()
    ticket, urge, fire, void = kitchen["fake"]["hot"].documents
    assert urge.big_lines()[:3] == ["催菜（第 1 次）", "桌号 A1 · 第 1 轮", "宫保鸡丁 ×1"]
    assert urge.beeps == 1
    assert fire.big_lines()[:3] == ["起菜", "桌号 A1 · 第 1 轮", "清蒸鲈鱼 ×1"]
    assert void.big_lines()[:3] == ["退菜", "桌号 A1 · 第 1 轮", "宫保鸡丁 ×1"]
    assert "原因：等太久了" in void.text
    assert [d.text.count("流水号") for d in (ticket, urge, fire, void)] == [1, 1, 1, 1]


def tried(printer):
    """How often the printer's jobs were tried, printed or not."""
    return PrintJob.objects.filter(printer=printer).aggregate(n=Sum("attempts"))["n"]


@pytest.mark.django_db
def test_a_printer_off_for_30_seconds_prints_what_it_missed_in_order_once(
    table, other_table, menu, kitchen, commits
):
    """The worker's rounds every second and the back-off run on a driven clock; the printer
    really refuses connections until the clock passes 30 s."""
    fake = kitchen["fake"]["hot"]
    hot = kitchen["printer"]["hot"]
    fake.power_off()
    tab, other = (
        order_services.tab_for_table(table=table),
        order_services.tab_for_table(table=other_table),
    )
    with commits():
        order(tab, menu)
    for key, at in (("more", tab), ("other", other), ("again", tab)):
        with commits():
            one_dish(at, menu, key)
    start = timezone.now()
    tries = []
    for second in range(0, 41):
        now = start + timedelta(seconds=second)
        if second == 30:
            fake.power_on()
        before = tried(hot)
        sender.print_jobs_send(now=now)
        if tried(hot) != before:
            tries.append(second)
        if second < 30:
            hot.refresh_from_db()
            assert hot.failing_since == start and hot.last_error.startswith("unreachable")
    # Tried at once, then after 2, 4, 8 and 16 s: the 5th try, at 30 s, finds it on again.
    assert tries == [0, 2, 6, 14, 30]
    documents = fake.documents
    assert [d.big_lines()[:2] for d in documents] == [
        ["热菜 点菜单", "桌号 A1"],
        ["热菜 加菜单", "桌号 A1"],
        ["热菜 点菜单", "桌号 A2"],
        ["热菜 加菜单", "桌号 A1"],
    ]
    assert ["第 1 轮" in documents[0].text, "第 2 轮" in documents[1].text] == [True, True]
    assert "第 3 轮" in documents[3].text
    assert all("【补打】" in d.text for d in documents)  # each came late, and says so
    hot.refresh_from_db()
    assert hot.failing_since is None and hot.last_error == ""
    assert set(PrintJob.objects.filter(printer=hot).values_list("status", flat=True)) == {"sent"}
    # The other printers were not held up by the dead one.
    assert len(kitchen["fake"]["cold"].documents) == 1


@pytest.mark.django_db
def test_out_of_paper_the_job_waits_and_nothing_is_sent_until_paper_is_back(
    table, menu, kitchen, commits
):
    fake = kitchen["fake"]["cold"]
    fake.paper_out = True
    tab = order_services.tab_for_table(table=table)
    with commits():
        order(tab, menu)
    start = timezone.now()
    sender.print_jobs_send(now=start)
    job = PrintJob.objects.get(printer=kitchen["printer"]["cold"])
    assert job.status == "queued" and job.attempts == 1 and job.last_error == "offline"
    assert fake.documents == [] and fake.lost_documents == 0  # its bytes were never sent
    fake.paper_out = False
    sender.print_jobs_send(now=start + timedelta(seconds=1))
    assert fake.documents == []  # still waiting out its back-off
    sender.print_jobs_send(now=start + timedelta(seconds=2))
    assert len(fake.documents) == 1 and "拍黄瓜 ×2" in fake.documents[0].text


def test_the_status_bytes_are_read_as_a_printer_means_them():
    fake = FakePrinter()
    try:
        transport.send("127.0.0.1", fake.port, b"\x1b@hello\n\x1dV\x00")
        assert fake.documents[0].text == "hello"
        fake.cover_open = True
        with pytest.raises(transport.PrinterError) as offline:
            transport.send("127.0.0.1", fake.port, b"x\n")
        assert offline.value.code == "offline"
        fake.cover_open = False
        # A paper-end byte (DLE EOT 4 bits 5-6) with the printer still saying online.
        fake.status_byte = lambda n: 0x72 if n == 4 else 0x12
        with pytest.raises(transport.PrinterError) as paper:
            transport.send("127.0.0.1", fake.port, b"x\n")
        assert paper.value.code == "paper_out"
        fake.status_byte = lambda n: 0xFF  # not a status byte: not an ESC/POS printer
        with pytest.raises(transport.PrinterError) as odd:
            transport.send("127.0.0.1", fake.port, b"x\n")
        assert odd.value.code == "bad_answer"
        fake.mute = True
        with pytest.raises(transport.PrinterError) as hung:
            transport.send("127.0.0.1", fake.port, b"x\n", timeout=0.5)
        assert hung.value.code == "no_answer"
        fake.power_off()
        with pytest.raises(transport.PrinterError) as off:
            transport.send("127.0.0.1", fake.port, b"x\n")
        assert off.value.code == "unreachable"
    finally:
        fake.power_off()


@pytest.mark.django_db
def test_a_paid_receipt_prints_chinese_text_and_a_qr_code_that_decode(
    table, menu, kitchen, commits, cashier, settings
):
    settings.PUBLIC_URL = "http://192.168.1.20:8000"
    tab = order_services.tab_for_table(table=table)
    with commits():
        order(tab, menu)
    payment, _ = payment_services.payment_start(
        tab_id=tab.pk, method="cash", amount=Decimal("200"), version=Tab.objects.get(pk=tab.pk).version,
        key="cash-1", user=cashier,
    )  # fmt: skip
    job = services.bill_print(tab_id=tab.pk, kind="receipt")
    assert job.printer == kitchen["printer"]["till"]
    sender.print_jobs_send()
    (receipt,) = kitchen["fake"]["till"].documents
    text = receipt.text
    assert "点餐小馆" in receipt.big_lines()[0]
    for expected in ("收款小票", "大厅 A1", "拍黄瓜", "宫保鸡丁(微辣)(加花生)", "清蒸鲈鱼",
                     "实收 200.00", "找零 47.00", "扫码查看电子小票"):  # fmt: skip
        assert expected in text, expected
    assert "￥153.00" in "".join(receipt.big_lines())  # 2 × 12 + (38 + 3) + 88
    payment = Payment.objects.get(pk=payment.pk)
    assert receipt.qr_codes == [f"http://192.168.1.20:8000/receipt/{payment.reference}/"]
    # The code fits the 58 mm paper (384 dots) at the module size it was printed with.
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(receipt.qr_codes[0])
    qr.make(fit=True)
    assert qr.modules_count * receipt.qr_size <= 384
    assert all(render.width(line.text) <= (16 if line.big else 32) for line in receipt.lines)


@pytest.mark.django_db
def test_a_bill_before_paying_carries_the_pay_page_code(table, menu, kitchen, commits, settings):
    tab = order_services.tab_for_table(table=table)
    with commits():
        order(tab, menu)
    services.bill_print(tab_id=tab.pk, kind="prebill")
    sender.print_jobs_send()
    bill = kitchen["fake"]["till"].documents[0]
    assert "结账单（未付款）" in bill.text and "￥153.00" in "".join(bill.big_lines())
    assert bill.qr_codes == [f"{settings.PUBLIC_URL}/t/{table.token}/pay/"]


def test_python_escpos_alone_would_garble_text_without_an_ideograph():
    """Why render.py encodes text itself (printing/README.md): the library sends GB18030 only
    for text holding an ideograph (U+4E00–U+9FA5); "￥38.00 ×2" has none, and comes out as a
    code page switch (ESC t), "?" for ￥ and a code page's × instead."""
    printer = Dummy()
    printer.text("￥38.00 ×2\n")
    assert printer.output == b"\x1bt\x00?38.00 \x1bt\r\xe82\n"
    assert "￥38.00 ×2\n".encode("gb18030") == b"\xa3\xa438.00 \xa1\xc12\n"


@pytest.mark.django_db
def test_reprint_prints_the_same_ticket_again_marked_as_a_reprint(table, menu, kitchen, commits):
    tab = order_services.tab_for_table(table=table)
    with commits():
        order(tab, menu)
    sender.print_jobs_send()
    first = PrintJob.objects.get(printer=kitchen["printer"]["hot"])
    copy = services.job_reprint(job_id=first.pk)
    assert copy.sequence == 2 and copy.reprint_of == first
    sender.print_jobs_send()
    original, again = kitchen["fake"]["hot"].documents
    assert "【重印】" in again.text and "【重印】" not in original.text
    assert again.big_lines() == original.big_lines()
    first.refresh_from_db()
    assert first.status == "sent"


@pytest.mark.django_db
def test_a_dead_printers_jobs_move_to_another_in_their_order(table, menu, kitchen, commits):
    kitchen["fake"]["hot"].power_off()
    tab = order_services.tab_for_table(table=table)
    for key in ("a", "b"):
        with commits():
            one_dish(tab, menu, key) if key == "b" else order(tab, menu, key)
    sender.print_jobs_send()
    hot, cold = kitchen["printer"]["hot"], kitchen["printer"]["cold"]
    hot.refresh_from_db()
    assert hot.failing_since is not None
    moved = services.jobs_move(from_printer_id=hot.pk, to_printer_id=cold.pk)
    assert moved == 2
    hot.refresh_from_db()
    assert hot.failing_since is None
    sender.print_jobs_send()
    documents = kitchen["fake"]["cold"].documents
    assert [d.big_lines()[0] for d in documents] == ["凉菜 点菜单", "热菜 点菜单", "热菜 加菜单"]
    assert "转自 热菜打印机" in documents[1].text
    # Re-rendered for the 58 mm paper it came out on.
    assert all(render.width(line.text) <= (16 if line.big else 32) for line in documents[1].lines)
    assert [job.sequence for job in PrintJob.objects.filter(printer=cold).order_by("sequence")] == [
        1,
        2,
        3,
    ]


@pytest.mark.django_db(transaction=True)
def test_two_worker_copies_print_each_job_once_and_in_order(
    table, other_table, menu, kitchen, tmp_path
):
    """Two `manage.py worker` processes sweep at once; every document comes out exactly once."""
    tabs = [
        order_services.tab_for_table(table=table),
        order_services.tab_for_table(table=other_table),
    ]
    env = {"REDIS_URL": ""}
    workers = [Worker("--every", "0.1", log_dir=tmp_path, env=env) for _ in range(2)]
    try:
        for worker in workers:
            worker.wait_for("worker: started", timeout=60)  # two start at once on a busy machine
        for n in range(8):  # the workers print while orders come in
            one_dish(tabs[n % 2], menu, f"k{n}")
        kitchen["fake"]["hot"].wait_for(8, timeout=60)
        kitchen["fake"]["pass_"].wait_for(8, timeout=60)
        time.sleep(1)  # more rounds of both: nothing may print again
    finally:
        codes = [worker.stop() for worker in workers]
    assert codes == [0, 0], [w.output()[-2000:] for w in workers]
    documents = kitchen["fake"]["hot"].documents
    assert len(documents) == 8
    numbers = [int(d.text.split("流水号 ")[1].split()[0]) for d in documents]
    assert numbers == list(range(1, 9))
    assert len(kitchen["fake"]["pass_"].documents) == 8
    logs = "".join(w.output() for w in workers)
    assert "worker: print did" in logs


@pytest.mark.django_db(transaction=True)
def test_the_order_post_answers_before_the_printer_reads_a_byte(table, menu, kitchen, tmp_path):
    """A real daphne takes the order and answers without touching the printer; the worker,
    started only after the answer, prints it: the printer's first byte comes after the answer."""
    daphne = Daphne(log_dir=tmp_path, env={"REDIS_URL": ""})
    worker = None
    fake = kitchen["fake"]["hot"]
    try:
        body = {
            "key": "live-1",
            "guests": 2,
            "lines": [{"dish": menu["chicken"].pk, "options": [menu["mild"].pk]}],
        }
        request = urllib.request.Request(
            f"{daphne.url}/api/v1/tables/{table.token}/orders",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 201
        answered = time.monotonic()
        assert fake.connections == 0 and fake.bytes_read == 0
        assert PrintJob.objects.get(printer=kitchen["printer"]["hot"]).status == "queued"
        worker = Worker("--every", "0.2", log_dir=tmp_path, env={"REDIS_URL": ""})
        (ticket,) = fake.wait_for(1, timeout=30)
    finally:
        if worker:
            worker.stop()
        daphne.stop()
    assert fake.first_byte_at > answered
    assert "宫保鸡丁 ×1" in ticket.big_lines()


@pytest.mark.django_db
def test_a_printer_not_in_use_keeps_its_jobs_and_is_not_tried(table, menu, kitchen, commits):
    tab = order_services.tab_for_table(table=table)
    with commits():
        order(tab, menu)
    Printer.objects.filter(pk=kitchen["printer"]["hot"].pk).update(active=False)
    sender.print_jobs_send()
    assert kitchen["fake"]["hot"].connections == 0
    assert PrintJob.objects.get(printer=kitchen["printer"]["hot"]).status == "queued"


@pytest.mark.django_db
def test_printed_jobs_are_kept_thirty_days_and_waiting_ones_for_ever(table, menu, kitchen, commits):
    tab = order_services.tab_for_table(table=table)
    with commits():
        order(tab, menu)
    sender.print_jobs_send()
    old_printed = PrintJob.objects.get(printer=kitchen["printer"]["hot"])
    old_waiting = services.job_reprint(job_id=old_printed.pk)
    recent = PrintJob.objects.get(printer=kitchen["printer"]["cold"])
    now = timezone.now()
    PrintJob.objects.filter(pk__in=[old_printed.pk, old_waiting.pk]).update(
        created_at=now - timedelta(days=31)
    )
    PrintJob.objects.filter(pk=recent.pk).update(created_at=now - timedelta(days=29))
    assert sender.print_jobs_purge(now=now, force=True) == 1
    assert not PrintJob.objects.filter(pk=old_printed.pk).exists()
    assert PrintJob.objects.filter(pk__in=[old_waiting.pk, recent.pk]).count() == 2
    assert PrintJob.objects.get(pk=old_waiting.pk).reprint_of is None  # its original is gone
    assert sender.print_jobs_purge(now=now) == 0  # at most once an hour


@pytest.mark.django_db
def test_a_receipt_shows_card_and_cash_a_refund_and_a_voided_dish(
    table, menu, kitchen, commits, cashier
):
    """Mixed methods, a refund with its reason and a 退菜 on 80 mm paper: every adjustment of the
    settlement is on the paper."""
    Printer.objects.filter(pk=kitchen["printer"]["till"].pk).update(paper=80)
    tab = order_services.tab_for_table(table=table)
    with commits():
        first = order(tab, menu)
    with commits():
        order_services.line_void(
            line_id=first.lines.get(name="拍黄瓜").pk, reason="上错了", user=cashier
        )
    version = Tab.objects.get(pk=tab.pk).version
    with commits():
        payment_services.payment_start(
            tab_id=tab.pk, method="card", amount=Decimal("100"), version=version, key="card",
            user=cashier, terminal_ref="T-1",
        )  # fmt: skip
    version = Tab.objects.get(pk=tab.pk).version
    with commits():
        cash, _ = payment_services.payment_start(
            tab_id=tab.pk,
            method="cash",
            amount=Decimal("50"),
            version=version,
            key="cash",
            user=cashier,
        )
    with commits():
        payment_services.refund_create(
            payment_id=cash.pk, amount=Decimal("10"), reason="菜凉了", user=cashier, key="r1"
        )
    services.bill_print(tab_id=tab.pk, kind="receipt")
    sender.print_jobs_send()
    receipt = kitchen["fake"]["till"].documents[-1]
    lines = receipt.text.split("\n")
    assert any(line.startswith("【退】拍黄瓜") for line in lines)
    for expected in (
        "刷卡",
        "100.00",
        "现金",
        "实收 50.00",
        "找零 21.00",
        "退款 (菜凉了)",
        "-10.00",
    ):
        assert expected in receipt.text, expected
    assert "￥129.00" in "".join(receipt.big_lines())  # (38 + 3) + 88: the cucumbers are off
    assert all(render.width(line.text) <= (24 if line.big else 48) for line in receipt.lines)
