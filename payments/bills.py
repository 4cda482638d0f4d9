"""The gateways' daily trade bills, fetched, checked and parsed for the books to reconcile.

WeChat Pay's 交易账单 is CSV text (every value prefixed with a backquote), its trades, then a
totals line; it arrives gzipped and is checked against its SHA1 (`providers/wechatpay.py`).
Alipay's is a zip of GBK CSV files; the 业务明细 file lists trades and refunds between `#`
comment lines. Each is stored as one `GatewayBill` with one row per trade or refund:
`{"kind": "payment" | "refund", "out_trade_no", "transaction_id", "refund_no", "amount",
"fee", "time"}`, amounts as yuan strings (refunds positive, `kind` says which way).

The worker's `bills` job fetches yesterday's bill of each gateway offered here once the
gateway has it (after 10:00 Beijing time, when both publish the day before), once: the row is
unique per gateway and day, and a failed fetch is tried again an hour later (a claim in the
cache, so that several workers do not all ask).
"""

import csv
import io
import logging
import zipfile
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError
from django.utils import timezone

from . import providers
from .models import GatewayBill
from .providers.base import GatewayUnknown
from .providers.wechatpay import BillRefused

logger = logging.getLogger("payments")
CHINA = timezone.get_fixed_timezone(8 * 60)
RETRY = 3600


def _yuan(text: str) -> str:
    try:
        return str(abs(Decimal(text.strip() or "0")).quantize(Decimal("0.01")))
    except InvalidOperation:
        raise BillRefused(f"not an amount: {text!r}") from None


def parse_wechat(text: str) -> tuple[list[dict], dict]:
    """WeChat Pay's trade bill: (rows, totals)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 3 or not lines[0].startswith("交易时间,"):
        raise BillRefused("not a WeChat Pay trade bill")
    head = lines[0].split(",")
    totals_at = next(i for i, line in enumerate(lines) if line.startswith("总交易单数,"))
    rows = []
    for line in lines[1:totals_at]:
        values = dict(zip(head, (v.lstrip("`") for v in next(csv.reader([line]))), strict=True))
        refund = values["交易状态"] == "REFUND"
        rows.append({
            "kind": "refund" if refund else "payment",
            "out_trade_no": values["商户订单号"],
            "transaction_id": values["微信订单号"],
            "refund_no": values["商户退款单号"] if refund else "",
            "amount": _yuan(values["退款金额"] if refund else values["应结订单金额"]),
            "fee": _yuan(values["手续费"]),
            "time": values["交易时间"],
        })  # fmt: skip
    names = lines[totals_at].split(",")
    figures = [v.lstrip("`") for v in lines[totals_at + 1].split(",")]
    return rows, dict(zip(names, figures, strict=True))


def parse_alipay(data: bytes) -> tuple[list[dict], dict]:
    """Alipay's trade bill zip: (rows, totals) from its 业务明细 CSV (GBK)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        name = next(n for n in archive.namelist() if n.endswith("_业务明细.csv"))
        text = archive.read(name).decode("gbk")
    except (zipfile.BadZipFile, StopIteration, UnicodeDecodeError) as error:
        raise BillRefused(f"not an Alipay trade bill ({error})") from None
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines or not lines[0].startswith("支付宝交易号,"):
        raise BillRefused("not an Alipay trade bill")
    rows = []
    for values in csv.DictReader(lines):
        refund = values["业务类型"] == "退款"
        rows.append({
            "kind": "refund" if refund else "payment",
            "out_trade_no": values["商户订单号"],
            "transaction_id": values["支付宝交易号"],
            "refund_no": values["退款批次号/请求号"] if refund else "",
            "amount": _yuan(values["订单金额（元）"]),
            "fee": _yuan(values["服务费（元）"]),
            "time": values["完成时间"],
        })  # fmt: skip
    paid = sum((Decimal(r["amount"]) for r in rows if r["kind"] == "payment"), Decimal(0))
    back = sum((Decimal(r["amount"]) for r in rows if r["kind"] == "refund"), Decimal(0))
    return rows, {"payments": str(paid), "refunds": str(back), "count": str(len(rows))}


PARSERS: dict[str, Callable[[Any], tuple[list[dict], dict]]] = {
    "wechatpay": parse_wechat,
    "alipay": parse_alipay,
}


def bill_fetch(*, provider_name: str, day: date) -> GatewayBill:
    """Fetch, check, parse and keep one gateway's bill of `day` (again: the same row, updated).
    Raises BillRefused (the gateway refused, or the bill does not check out) or GatewayUnknown.
    Network I/O first, with no transaction open; then one write."""
    provider = providers.gateway(provider_name)
    if provider is None or provider_name not in PARSERS:
        raise BillRefused(f"{provider_name} is not offered here")
    content, digest = provider.trade_bill(day)
    rows, totals = PARSERS[provider_name](content)
    bill, _created = GatewayBill.objects.update_or_create(
        provider=provider_name,
        bill_date=day,
        defaults={"rows": rows, "totals": totals, "digest": digest, "fetched_at": timezone.now()},
    )
    return bill


def bills_fetch_due(*, now: datetime | None = None) -> int:
    """The worker's job: yesterday's bill of each gateway, once it is published (10:00 Beijing)."""
    local = (now or timezone.now()).astimezone(CHINA)
    if local.hour < 10:
        return 0
    day = local.date() - timedelta(days=1)
    fetched = 0
    for provider in providers.qr_gateways():
        if provider.name not in PARSERS:
            continue
        if GatewayBill.objects.filter(provider=provider.name, bill_date=day).exists():
            continue
        if not cache.add(f"bills:{provider.name}:{day}", "claimed", RETRY):
            continue  # another worker has it, or it failed less than an hour ago
        try:
            bill_fetch(provider_name=provider.name, day=day)
        except (BillRefused, GatewayUnknown) as error:
            logger.warning("payments: the %s bill of %s: %s", provider.name, day, error)
            continue
        except IntegrityError:
            continue  # another worker stored it meanwhile
        fetched += 1
    return fetched
