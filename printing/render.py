"""A job's data → the ESC/POS bytes for its printer (paper width, character set, cut, beep).

python-escpos makes the commands (styles, size, alignment, the native QR code `GS ( k`, the
buzzer, the cut) into its `Dummy` printer's buffer. Text is encoded here and written raw: the
library's text() picks single-byte code pages and only sends GB18030 for text holding a CJK
ideograph (U+4E00–U+9FA5), so "×2", "（少辣）" or "￥" alone would come out garbled on a
Chinese printer (printing/README.md). Every job starts with ESC @ and FS & (Chinese character
mode), and all its text goes out in the printer's character set.
"""

import os
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from escpos.constants import QR_ECLEVEL_M

from orders.settlement import bill_rows

FS_CHINESE_MODE = b"\x1c&"
# Characters per line of font A (12 × 24 dots): 384 dots on 58 mm paper, 576 on 80 mm.
COLUMNS = {58: 32, 80: 48}


def _escpos_cache_folder():
    """python-escpos parses its 96 KB printer database with PyYAML when `escpos.printer` is
    imported and pickles it into a new temporary folder every time, unless told where: one
    private folder of ours instead (it is ours and not writable by others, as a pickle read
    back must be), so later processes load the pickle and leave nothing behind."""
    folder = Path(tempfile.gettempdir()) / f"diancan-escpos-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.stat()
    except OSError:
        return
    if info.st_uid == os.getuid() and not info.st_mode & 0o077:
        os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(folder))


def _dummy():
    """The library's printer that keeps its commands, imported when the first job is rendered:
    the worker starts without waiting for it."""
    _escpos_cache_folder()
    from escpos.printer import Dummy

    return Dummy()


def width(text: str) -> int:
    """Columns the text takes: a character of the Chinese set prints twice as wide as ASCII."""
    return sum(1 if ord(char) < 128 else 2 for char in text)


def wrap(text: str, columns: int) -> list[str]:
    """The text cut into lines of at most `columns` (Chinese has no spaces to break at)."""
    lines, current = [], ""
    for char in text:
        if width(current + char) > columns:
            lines.append(current)
            current = ""
        current += char
    return [*lines, current]


def clock(moment: str, year: bool = False) -> str:
    """`12-02 18:02` on kitchen slips; with the year on bills."""
    return datetime.fromisoformat(moment).strftime("%Y-%m-%d %H:%M" if year else "%m-%d %H:%M")


def yuan(value) -> str:
    return f"{Decimal(value):,.2f}"


class Slip:
    """One piece of paper for one printer."""

    def __init__(self, printer):
        self.printer = printer
        self.columns = COLUMNS.get(printer.paper, 48)
        self.out = _dummy()
        self.out.hw("INIT")
        self.out._raw(FS_CHINESE_MODE)

    def encode(self, text: str) -> bytes:
        # ¥ (U+00A5) is a four-byte GB18030 code most printer fonts lack; ￥ is in GB2312.
        return text.replace("¥", "￥").encode(self.printer.encoding, errors="replace")

    def style(self, *, big=False, bold=False, align="left"):
        # GS ! sizes Chinese characters too (ESC !, the library's double_width, sizes ASCII only).
        size = 2 if big else 1
        self.out.set(align=align, bold=bold, custom_size=True, width=size, height=size)

    def text(self, text: str = "", *, big=False, bold=False, align="left"):
        self.style(big=big, bold=bold, align=align)
        for part in wrap(text, self.columns // (2 if big else 1)):
            self.out._raw(self.encode(part) + b"\n")

    def pair(self, left: str, right: str, *, big=False, bold=False):
        """`left ……… right` on one line, or left alone and right under it when too long."""
        columns = self.columns // (2 if big else 1)
        self.style(big=big, bold=bold)
        if width(left) + width(right) + 1 > columns:
            self.text(left, big=big, bold=bold)
            left = ""
            self.style(big=big, bold=bold)
        gap = columns - width(left) - width(right)
        self.out._raw(self.encode(left + " " * gap + right) + b"\n")

    def rule(self, char="-"):
        self.text(char * self.columns)

    def qr(self, content: str, caption: str = ""):
        self.style(align="center")
        self.out.qr(content, native=True, size=6 if self.columns >= 48 else 5, ec=QR_ECLEVEL_M)
        self.out._raw(b"\n")
        if caption:
            self.text(caption, align="center")

    def beep(self):
        if self.printer.beeps:
            self.out.buzzer(times=3, duration=3)

    def finish(self) -> bytes:
        self.style()
        if self.printer.cuts:
            self.out.cut()
        else:
            self.out.print_and_feed(5)
        return self.out.output


def _marks(slip, payload, job):
    """No., 重印 and 转单 under a title: what a cook checks a duplicate against."""
    marks = [_("No. %(n)s") % {"n": job.sequence}]
    if payload.get("reprint"):
        marks.append(_("REPRINT"))
    if job.moved_from:
        marks.append(_("moved from %(printer)s") % {"printer": job.moved_from})
    if payload.get("late"):
        marks.append(_("LATE"))  # its printer failed first: the cook knows it comes late
    slip.text(" · ".join(marks), align="center")


def _dish(slip, line, *, big=True):
    held = _("[HOLD] ") if line.get("held") else ""
    slip.text(f"{held}{line['name']} ×{line['quantity']}", big=big, bold=True)
    if line.get("options"):
        slip.text("  " + " ".join(line["options"]), big=big)
    if line.get("note"):
        slip.text("  " + _("Note: %(note)s") % {"note": line["note"]}, big=big)


def _ticket(slip, job, payload):
    title = _("Add-on") if job.kind == "addon" else _("Order ticket")
    slip.text(f"{payload['station']} {title}", big=True, bold=True, align="center")
    _marks(slip, payload, job)
    slip.text(_("Table %(table)s") % {"table": payload["table"]}, big=True, bold=True)
    round_line = _("Round %(n)s") % {"n": payload["round"]}
    if payload.get("guests"):
        round_line += " · " + _("%(n)s guests") % {"n": payload["guests"]}
    slip.text(f"{round_line} · {clock(payload['ordered_at'])}")
    slip.rule()
    for line in payload["lines"]:
        _dish(slip, line)
    slip.rule()
    portions = sum(line["quantity"] for line in payload["lines"])
    slip.text(_("%(n)s portions") % {"n": portions})
    slip.beep()


SLIP_TITLES = {
    "urge": lambda payload: _("HURRY (%(n)s×)") % {"n": payload.get("urges") or 1},
    "void": lambda payload: _("VOID"),
    "fire": lambda payload: _("FIRE"),
}


def _line_slip(slip, job, payload):
    slip.text(SLIP_TITLES[job.kind](payload), big=True, bold=True, align="center")
    _marks(slip, payload, job)
    slip.text(
        _("Table %(table)s") % {"table": payload["table"]}
        + " · "
        + _("Round %(n)s") % {"n": payload["round"]},
        big=True,
        bold=True,
    )
    slip.rule()
    _dish(slip, payload["line"])
    if job.kind == "void":
        slip.text(_("Reason: %(reason)s") % {"reason": payload.get("reason", "")}, bold=True)
        if payload.get("old") in ("cooking", "ready"):
            slip.text(_("It was already being cooked."))
    slip.rule()
    slip.text(f"{payload['station']} · {clock(payload['at'])}")
    if job.kind in ("urge", "void"):
        slip.beep()


def _pass(slip, job, payload):
    slip.text(_("Pass ticket"), big=True, bold=True, align="center")
    _marks(slip, payload, job)
    slip.text(
        _("Table %(table)s") % {"table": payload["table"]}
        + " · "
        + _("Round %(n)s") % {"n": payload["round"]},
        big=True,
        bold=True,
    )
    slip.text(clock(payload["ordered_at"]))
    slip.rule()
    for line in payload["lines"]:
        held = _("[HOLD] ") if line.get("held") else ""
        slip.pair(f"{held}{line['name']} ×{line['quantity']}", line.get("station") or "")
        if line.get("options"):
            slip.text("  " + " ".join(line["options"]))
        if line.get("note"):
            slip.text("  " + _("Note: %(note)s") % {"note": line["note"]})
    slip.rule()


METHODS = {"cash": "cash", "card": "card", "qr": "QR pay"}


def _bill(slip, job, payload):
    settlement = payload["settlement"]
    slip.text(payload["restaurant"], big=True, bold=True, align="center")
    title = _("Paid receipt") if job.kind == "receipt" else _("Bill (not paid)")
    slip.text(title, bold=True, align="center")
    if payload.get("reprint"):
        slip.text(_("REPRINT"), align="center")
    slip.pair(payload["table_name"], _("Bill #%(n)s") % {"n": payload["tab"]})
    if payload.get("guests"):
        slip.text(_("%(n)s guests") % {"n": payload["guests"]})
    slip.text(_("Opened: %(at)s") % {"at": clock(payload["opened_at"], year=True)})
    slip.text(_("Printed: %(at)s") % {"at": clock(payload["at"], year=True)})
    slip.rule()
    for line in settlement["lines"]:
        name = line["name"] + "".join(f"({o})" for o in line["options"])
        if line["status"] == "voided":
            slip.pair(_("[VOID] ") + name, f"×{line['quantity']}")
            continue
        slip.text(name)
        slip.pair(f"  {line['quantity']} × {yuan(line['unit_price'])}", yuan(line["amount"]))
        if Decimal(line["discount"]):
            slip.pair("  " + _("Discount"), "-" + yuan(line["discount"]))
    slip.rule()
    slip.pair(_("Subtotal"), yuan(settlement["subtotal"]))
    if "adjustments" in settlement:
        # Every price rule as its own line, in the order applied (orders.settlement.bill_rows).
        for row in bill_rows(settlement):
            label = row["label"] + (f" ({row['why']})" if row["why"] else "")
            slip.pair(label, ("-" if row["amount"] < 0 else "") + yuan(abs(row["amount"])))
    else:  # a job queued before the price rules
        if Decimal(settlement["discount_total"]):
            label = _("Discounts")
            if payload.get("bill_discount_reason"):
                label += f" ({payload['bill_discount_reason']})"
            slip.pair(label, "-" + yuan(settlement["discount_total"]))
        if Decimal(settlement["service_charge"]):
            slip.pair(_("Service charge"), yuan(settlement["service_charge"]))
        if Decimal(settlement["rounding"]):
            slip.pair(_("Rounding"), yuan(settlement["rounding"]))
    slip.pair(_("Total"), "￥" + yuan(settlement["total"]), big=True, bold=True)
    if payload["payments"]:
        slip.rule()
    for payment in payload["payments"]:
        slip.pair(_(METHODS.get(payment["method"], payment["method"])), yuan(payment["amount"]))
        if payment.get("tendered") and Decimal(payment["change"]):
            slip.pair(
                "  " + _("Tendered %(amount)s") % {"amount": yuan(payment["tendered"])},
                _("Change %(amount)s") % {"amount": yuan(payment["change"])},
            )
        for refund in payment["refunds"]:
            slip.pair("  " + _("Refund") + f" ({refund['reason']})", "-" + yuan(refund["amount"]))
    slip.rule()
    slip.pair(_("Paid"), yuan(Decimal(settlement["paid"]) - Decimal(settlement["refunded"])))
    slip.pair(_("Balance due"), yuan(payload["due"]), bold=True)
    if payload.get("qr"):
        caption = (
            _("Scan for your e-receipt") if job.kind == "receipt" else _("Scan to pay at the table")
        )
        slip.qr(payload["qr"], caption)
    slip.text(_("Thank you, see you again!"), align="center")


def _handover(slip, job, payload):
    """交班单: per method what the shift took, the drawer's arithmetic, the count, the
    difference and its reason, and lines for both cashiers to sign."""
    expected = payload["expected"]
    slip.text(payload["restaurant"], big=True, bold=True, align="center")
    slip.text(_("Handover slip"), big=True, align="center")
    if payload.get("reprint"):
        slip.text(_("REPRINT"), align="center")
    slip.pair(_("Till %(till)s") % {"till": payload["till"]}, payload["cashier"])
    slip.text(f"{clock(payload['opened_at'], year=True)} – {clock(payload['closed_at'])}")
    slip.rule()
    for method in expected["methods"]:
        slip.pair(_(METHODS.get(method["account"], method["account"])), yuan(method["net"]))
    slip.pair(_("Takings"), yuan(expected["takings"]), bold=True)
    slip.rule()
    slip.pair(_("Float"), yuan(expected["float"]))
    slip.pair(_("Paid in"), yuan(expected["paid_in"]))
    slip.pair(_("Paid out"), "-" + yuan(expected["paid_out"]))
    for movement in payload["movements"]:
        sign = "+" if movement["direction"] == "in" else "-"
        slip.pair(f"  {movement['reason']}", sign + yuan(movement["amount"]))
    slip.pair(_("Cash expected"), yuan(payload["expected_cash"]))
    for face, count in payload["denominations"]:
        slip.pair(f"  ￥{face} × {count}", "")
    slip.pair(_("Cash counted"), yuan(payload["counted"]), bold=True)
    difference = Decimal(payload["difference"])
    label = _("Over") if difference > 0 else _("Short") if difference < 0 else _("Difference")
    slip.pair(label, yuan(difference), big=True, bold=True)
    if payload.get("difference_reason"):
        slip.text(_("Reason: %(reason)s") % {"reason": payload["difference_reason"]})
    slip.pair(_("Left in the drawer"), yuan(payload["left_in_drawer"]))
    slip.pair(_("Taken out"), yuan(payload["taken_out"]))
    slip.rule()
    slip.text(_("Handed over by") + ": ________")
    slip.text(_("Taken over by") + ": ________")


def _test(slip, job, payload):
    slip.text(payload.get("restaurant", ""), big=True, bold=True, align="center")
    slip.text(_("Printer test"), big=True, align="center")
    slip.text(f"{job.printer.name} · {job.printer.address} · {job.printer.paper} mm")
    slip.text("宫保鸡丁 ×2（微辣）￥38.00")  # 27 columns: one line on 58 mm
    slip.rule()
    slip.qr(settings.PUBLIC_URL, settings.PUBLIC_URL)
    slip.beep()


LAYOUTS = {
    "ticket": _ticket,
    "addon": _ticket,
    "urge": _line_slip,
    "void": _line_slip,
    "fire": _line_slip,
    "pass": _pass,
    "prebill": _bill,
    "receipt": _bill,
    "test": _test,
    "handover": _handover,
}


def job_bytes(job, printer, *, late=False) -> bytes:
    """The job as ESC/POS for this printer, in the restaurant's language; `late` when it comes
    after its printer failed (marked 补打)."""
    slip = Slip(printer)
    with translation.override(settings.LANGUAGE_CODE):
        LAYOUTS[job.kind](slip, job, {**job.payload, "late": late})
    return slip.finish()
