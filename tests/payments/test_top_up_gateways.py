"""A member's top-up (储值) by WeChat Pay or Alipay at the till, against both simulators over real
HTTP: a QR code the member scans, or the member's 付款码 scanned; pending until the gateway
confirms, then principal and bonus credited exactly once (replayed, at once, racing the query);
expired, declined or reversed: nothing credited; paid after expiry: credited and given back in
full; refunds of principal through the gateway's refund API; reconciliation of a top-up's row;
and always: money owed to members in the ledger = the sum of the balances."""

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from payments import services
from payments.members import selectors, topups
from payments.members import services as members
from payments.members.models import BonusRule, Member, Move, TopUp, TopUpRefund
from payments.models import GatewayBill, LedgerEntry
from payments.providers.base import refund_number
from payments.reports.reconcile import Kind, reconcile_check, reconcile_day
from restaurant.lib.errors import Code, Refused

from . import test_alipay, test_wechatpay
from .conftest import ledger_sum

pytestmark = pytest.mark.django_db

WECHAT_CODE = "134567890123456789"
ALIPAY_CODE = "287654321098765432"
LATER = timedelta(minutes=1)


def balances() -> Decimal:
    figures = Member.objects.aggregate(p=Sum("principal"), b=Sum("bonus"))
    return (figures["p"] or Decimal(0)) + (figures["b"] or Decimal(0))


def books_hold() -> bool:
    """Money owed to members (the ledger's `member` account) is the sum of all balances."""
    return ledger_sum(account="member") == balances()


@pytest.fixture
def rules(db):
    BonusRule.objects.create(threshold=Decimal("200"), bonus=Decimal("30"))


@pytest.fixture
def member(db, cashier):
    return members.member_create(mobile="13800138000", name="王芳", pin="123456", user=cashier)


class WeChat:
    name = "wechatpay"
    code = WECHAT_CODE

    def __init__(self, sim):
        self.sim = sim

    def approve(self, top_up):
        assert self.sim.decide(top_up.reference)[0] == 200

    def notice(self, top_up):
        return self.sim.notification(top_up.reference)

    def post(self, client, notice):
        return test_wechatpay.post(client, *notice)

    def taken(self, answer):
        return answer.status_code == 204


class Alipay(WeChat):
    name = "alipay"
    code = ALIPAY_CODE

    def approve(self, top_up):
        test_alipay.scan(self.sim, top_up)
        assert self.sim.decide(top_up.reference)[0] == 200

    def post(self, client, notice):
        return test_alipay.post(client, notice)

    def taken(self, answer):
        return answer.status_code == 200 and answer.content == b"success"


@pytest.fixture(params=["wechatpay", "alipay"])
def gateway(request):
    if request.param == "wechatpay":
        return WeChat(request.getfixturevalue("sim"))
    return Alipay(request.getfixturevalue("alisim"))


def start(member, gateway_name, amount="200", key="t1", user=None, auth_code=""):
    top_up, _created = topups.top_up_start(
        member_id=member.pk, amount=Decimal(amount), key=key, user=user,
        gateway=gateway_name, auth_code=auth_code,
    )  # fmt: skip
    return TopUp.objects.get(pk=top_up.pk)


def wallet(member):
    member.refresh_from_db()
    return member.principal, member.bonus


# A QR code the member scans ------------------------------------------------------------------


def test_a_qr_top_up_waits_for_the_gateway_then_credits_once_replayed_100_times(
    gateway, member, rules, cashier, client
):
    top_up = start(member, gateway.name, user=cashier)
    assert top_up.is_pending and top_up.code_url and top_up.reference.startswith("dt")
    assert wallet(member) == (0, 0) and not LedgerEntry.objects.exists()
    gateway.approve(top_up)
    notice = gateway.notice(top_up)
    assert all(gateway.taken(gateway.post(client, notice)) for _ in range(100))
    top_up.refresh_from_db()
    assert top_up.is_paid and top_up.gateway_txn and top_up.bonus == 30
    assert wallet(member) == (200, 30)
    assert Move.objects.filter(member=member, kind=Move.Kind.TOP_UP).count() == 1
    assert ledger_sum(account="qr", kind="top_up") == 200  # the QR account: not sales
    assert not LedgerEntry.objects.filter(tab__isnull=False).exists()
    assert ledger_sum(account="member") == 230 and books_hold()
    assert top_up.events.filter(to_status="succeeded").count() == 1
    # The same key again is the same top-up: nothing started or credited twice.
    assert topups.top_up_start(
        member_id=member.pk, amount=Decimal("200"), key="t1", gateway=gateway.name
    ) == (top_up, False)
    assert TopUp.objects.count() == 1 and wallet(member) == (200, 30)


@pytest.mark.django_db(transaction=True)
def test_twenty_notifications_at_once_credit_once(needs_postgres, gateway, cashier):
    member = members.member_create(mobile="13800138001", user=cashier)
    top_up = start(member, gateway.name)
    gateway.approve(top_up)
    notice = gateway.notice(top_up)
    barrier = threading.Barrier(20)
    answers = [None] * 20

    def run(i):
        try:
            barrier.wait()
            answers[i] = gateway.taken(gateway.post(Client(), notice))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == [True] * 20
    assert wallet(member) == (200, 0)
    assert LedgerEntry.objects.count() == 2 and books_hold()  # qr in, owed to the member


@pytest.mark.django_db(transaction=True)
def test_a_notification_racing_the_query_and_two_workers_credits_once(
    needs_postgres, gateway, cashier
):
    member = members.member_create(mobile="13800138002", user=cashier)
    BonusRule.objects.create(threshold=Decimal("100"), bonus=Decimal("10"))
    top_up = start(member, gateway.name, amount="100")
    gateway.approve(top_up)
    notice = gateway.notice(top_up)
    later = timezone.now() + LATER
    barrier = threading.Barrier(3)

    def notify():
        try:
            barrier.wait()
            assert gateway.taken(gateway.post(Client(), notice))
        finally:
            connection.close()

    def worker():
        try:
            barrier.wait()
            services.gateways_settle(now=later)
        finally:
            connection.close()

    threads = [threading.Thread(target=t) for t in (notify, worker, worker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    top_up.refresh_from_db()
    assert top_up.is_paid and wallet(member) == (100, 10)
    assert Move.objects.filter(kind=Move.Kind.TOP_UP).count() == 1
    assert LedgerEntry.objects.count() == 3 and books_hold()


def test_a_lost_notification_is_credited_by_the_query(gateway, member):
    top_up = start(member, gateway.name, amount="88.80")
    gateway.approve(top_up)
    assert services.gateways_settle(now=timezone.now() + LATER) == 1
    assert services.gateways_settle(now=timezone.now() + 2 * LATER) == 0
    assert wallet(member) == (Decimal("88.80"), 0) and books_hold()


def test_a_qr_top_up_not_paid_in_time_expires_and_credits_nothing(gateway, member):
    top_up = start(member, gateway.name)
    later = timezone.now() + timedelta(minutes=11)
    assert top_up.status_now(later) == "expired"  # read as expired before the worker
    assert services.payments_expire_due(now=later) == 1
    top_up.refresh_from_db()
    assert top_up.status == "expired" and wallet(member) == (0, 0)
    assert not LedgerEntry.objects.exists()
    with pytest.raises(Refused) as refused:
        topups.top_up_refund(top_up_id=top_up.pk, amount=Decimal(1), reason="x")
    assert refused.value.code == Code.TOP_UP_NOT_PAID


def test_a_paid_after_expiry_is_credited_then_given_back_in_full(
    sim, member, rules, client, commits
):
    sim.controls(close_ignored=True)  # the member pays while we close it
    top_up = start(member, "wechatpay")
    services.payments_expire_due(now=timezone.now() + timedelta(minutes=11))
    top_up.refresh_from_db()
    assert top_up.status == "expired"
    sim.decide(top_up.reference)
    with commits():
        answer = test_wechatpay.post(client, *sim.notification(top_up.reference))
    assert answer.status_code == 204
    top_up.refresh_from_db()
    assert top_up.is_paid and top_up.refunded == 200
    refund = TopUpRefund.objects.get(top_up=top_up)
    assert refund.automatic and refund.amount == 200 and refund.bonus == 30
    assert wallet(member) == (0, 0) and books_hold()  # credited and taken back at once
    assert sim.refund(refund_number(refund))["amount"] == 20000
    assert (
        test_wechatpay.post(client, *test_wechatpay.settled_refund(sim, refund)).status_code == 204
    )
    refund.refresh_from_db()
    assert refund.is_done and ledger_sum(account="qr") == 0 and books_hold()
    kinds = list(Move.objects.filter(member=member).values_list("kind", flat=True))
    assert kinds == ["joined", "top_up", "top_up_refund"]


def test_a_gateway_that_refuses_the_start_fails_it(sim, member):
    sim.controls(unreachable=True)
    top_up = start(member, "wechatpay")
    assert top_up.status == "failed" and wallet(member) == (0, 0)
    assert not LedgerEntry.objects.exists()


def test_another_way_or_another_gateway_under_the_same_key_is_refused(sim, member):
    members.top_up_create(member_id=member.pk, amount=Decimal(10), method="cash", key="k")
    with pytest.raises(Refused) as refused:
        topups.top_up_start(member_id=member.pk, amount=Decimal(10), key="k", gateway="wechatpay")
    assert refused.value.code == Code.KEY_REUSED
    with pytest.raises(Refused) as refused:
        members.top_up_create(member_id=member.pk, amount=Decimal(10), method="qr", key="k2")
    assert refused.value.code == Code.BAD_METHOD


def test_a_frozen_member_is_not_topped_up_and_a_gateway_not_set_up_is_refused(
    sim, member, cashier, settings
):
    members.member_freeze(member_id=member.pk, frozen=True, reason="丢卡", user=cashier)
    with pytest.raises(Refused) as refused:
        start(member, "wechatpay")
    assert refused.value.code == Code.MEMBER_FROZEN
    with pytest.raises(Refused) as refused:
        start(member, "alipay", key="t2")
    assert refused.value.code == Code.METHOD_UNAVAILABLE
    assert not TopUp.objects.exists()


# The member's 付款码 scanned ------------------------------------------------------------------


@pytest.mark.parametrize(("code", "name"), [(WECHAT_CODE, "wechatpay"), (ALIPAY_CODE, "alipay")])
def test_a_scanned_code_tops_up_at_once_and_once(sim, alisim, member, rules, cashier, code, name):
    top_up = start(member, "", user=cashier, auth_code=code)
    assert top_up.is_paid and top_up.by_code and top_up.provider == name
    assert wallet(member) == (200, 30) and ledger_sum(account="qr") == 200 and books_hold()
    again, created = topups.top_up_start(
        member_id=member.pk, amount=Decimal("200"), key="t1", auth_code=code
    )
    assert not created and again.pk == top_up.pk and wallet(member) == (200, 30)


def test_the_member_confirms_on_the_phone_then_it_is_credited(sim, member):
    sim.controls(code_answer="userpaying")
    top_up = start(member, "", auth_code=WECHAT_CODE)
    assert top_up.is_pending and wallet(member) == (0, 0)
    assert services.gateways_settle() == 0  # asked at once: still confirming
    sim.decide(top_up.reference)
    assert services.gateways_settle(now=timezone.now() + timedelta(seconds=3)) == 1
    assert wallet(member) == (200, 0) and books_hold()


def test_a_code_never_confirmed_is_reversed_and_credits_nothing(alisim, member):
    alisim.controls(code_answer="userpaying")
    top_up = start(member, "", auth_code=ALIPAY_CODE)
    assert services.gateways_settle(now=timezone.now() + timedelta(seconds=50)) == 1
    top_up.refresh_from_db()
    assert top_up.status == "cancelled" and alisim.order(top_up.reference)["state"] == (
        "TRADE_CLOSED"
    )
    assert wallet(member) == (0, 0) and not LedgerEntry.objects.exists()


def test_a_declined_code_credits_nothing_and_says_why(sim, member):
    sim.controls(code_answer={"status": 403, "code": "NOTENOUGH", "message": "用户余额不足"})
    top_up = start(member, "", auth_code=WECHAT_CODE)
    assert top_up.status == "failed" and top_up.failure == "NOTENOUGH: 用户余额不足"
    assert wallet(member) == (0, 0) and not LedgerEntry.objects.exists()


def test_an_unanswered_code_is_reversed_and_credits_nothing(sim, member):
    sim.controls(latency=2)  # longer than the 1 s time-out: neither codepay nor reverse answer
    top_up = start(member, "", auth_code=WECHAT_CODE)
    assert top_up.is_pending and top_up.failure == services.REVERSING
    sim.controls(latency=0)
    assert services.gateways_settle(now=timezone.now() + timedelta(seconds=3)) == 1
    top_up.refresh_from_db()
    assert top_up.status == "cancelled"
    assert wallet(member) == (0, 0) and not LedgerEntry.objects.exists()


# Refunds through the gateway ------------------------------------------------------------------


def test_a_wechat_top_up_refund_goes_back_through_the_gateway_principal_only(
    sim, member, rules, cashier, client, commits
):
    top_up = start(member, "", user=cashier, auth_code=WECHAT_CODE)
    with commits():
        topups.top_up_refund(top_up_id=top_up.pk, amount=Decimal(100), reason="搬家", user=cashier)
    refund = TopUpRefund.objects.get()
    assert refund.status == "pending" and refund.bonus == 15  # half the principal: half the bonus
    assert wallet(member) == (100, 15) and books_hold()  # out of the wallet while it is sent
    assert ledger_sum(account="qr") == 200  # the gateway has not given it back yet
    assert sim.refund(refund_number(refund))["amount"] == 10000
    notice = test_wechatpay.settled_refund(sim, refund)
    for _ in range(3):  # replayed: booked once
        assert test_wechatpay.post(client, *notice).status_code == 204
    refund.refresh_from_db()
    assert refund.is_done and refund.gateway_refund
    assert ledger_sum(account="qr") == 100 and books_hold()
    top_up.refresh_from_db()
    assert top_up.refunded == 100 and top_up.refundable == 100


def test_an_alipay_top_up_refund_is_given_back_at_once(alisim, member, cashier, commits):
    top_up = start(member, "", user=cashier, auth_code=ALIPAY_CODE)
    with commits():
        topups.top_up_refund(top_up_id=top_up.pk, amount=Decimal(200), reason="退卡", user=cashier)
    refund = TopUpRefund.objects.get()
    assert refund.is_done and alisim.refund(top_up.reference, refund_number(refund))
    assert wallet(member) == (0, 0) and ledger_sum(account="qr") == 0 and books_hold()


def test_a_refused_refund_puts_the_money_back_in_the_wallet(sim, member, rules, cashier, commits):
    top_up = start(member, "", user=cashier, auth_code=WECHAT_CODE)
    sim.controls(refund_refuse={"code": "NOT_ENOUGH", "message": "基本账户余额不足"})
    with commits():
        topups.top_up_refund(top_up_id=top_up.pk, amount=Decimal(200), reason="退卡", user=cashier)
    refund = TopUpRefund.objects.get()
    assert refund.status == "failed" and refund.failure == "NOT_ENOUGH: 基本账户余额不足"
    assert wallet(member) == (200, 30) and books_hold()
    top_up.refresh_from_db()
    assert top_up.refunded == 0
    kinds = list(Move.objects.filter(member=member).values_list("kind", flat=True))
    assert kinds[-2:] == ["top_up_refund", "refund_failed"]
    sim.controls(refund_refuse=None)  # tried again: a new refund, a new number
    with commits():
        topups.top_up_refund(top_up_id=top_up.pk, amount=Decimal(200), reason="退卡", user=cashier)
    assert TopUpRefund.objects.filter(status="pending").count() == 1


def test_a_refund_the_gateway_never_got_is_sent_again_by_the_worker(sim, member, cashier):
    top_up = start(member, "", user=cashier, auth_code=WECHAT_CODE)
    sim.controls(unreachable=True)
    topups.top_up_refund(top_up_id=top_up.pk, amount=Decimal(50), reason="x", user=cashier)
    refund = TopUpRefund.objects.get()
    assert topups.refund_execute(refund_id=refund.pk).status == "pending"  # no answer
    sim.controls(unreachable=False)
    later = timezone.now() + LATER
    services.gateways_settle(now=later)  # the query: never got it, so sent again, same number
    assert sim.refund(refund_number(refund))["amount"] == 5000
    test_wechatpay.settled_refund(sim, refund)
    services.gateways_settle(now=later)
    refund.refresh_from_db()
    assert refund.is_done and ledger_sum(account="qr") == 150 and books_hold()


def test_a_top_up_refund_never_takes_more_principal_than_is_left(sim, member, cashier):
    top_up = start(member, "", user=cashier, auth_code=WECHAT_CODE)
    topups.top_up_refund(top_up_id=top_up.pk, amount=Decimal(150), reason="x", user=cashier)
    with pytest.raises(Refused) as refused:
        topups.top_up_refund(top_up_id=top_up.pk, amount=Decimal(60), reason="x", user=cashier)
    assert refused.value.code == Code.OVER_TOP_UP_REFUND
    assert TopUpRefund.objects.count() == 1 and books_hold()


# Reconciliation --------------------------------------------------------------------------------


def test_a_top_up_on_the_gateways_bill_is_matched_or_credited_after_asking(sim, member, cashier):
    paid = start(member, "", user=cashier, auth_code=WECHAT_CODE)
    lost = start(member, "wechatpay", amount="66", key="t2")
    sim.decide(lost.reference)  # paid at the gateway; its notification never came
    day = timezone.localdate()
    row = {"kind": "payment", "transaction_id": "4200", "refund_no": "", "fee": "0.12",
           "time": f"{day} 12:00:00"}  # fmt: skip
    GatewayBill.objects.create(provider="wechatpay", bill_date=day, rows=[
        {**row, "out_trade_no": paid.reference, "amount": "200.00"},
        {**row, "out_trade_no": lost.reference, "amount": "66.00", "transaction_id": "4201"},
    ])  # fmt: skip
    result = reconcile_day(day)
    kinds = {(item.kind, item.out_trade_no) for item in result.items}
    assert kinds == {(Kind.MATCHED, paid.reference), (Kind.MISSING_HERE, lost.reference)}
    assert all(item.member == member.pk for item in result.items)
    outcomes = [outcome for _item, outcome in reconcile_check(day=day)]
    assert outcomes == ["recorded"]
    assert wallet(member) == (266, 0) and books_hold()
    assert {item.kind for item in reconcile_day(day).items} == {Kind.MATCHED}


def test_a_top_up_paid_here_and_on_no_bill_is_missing_there(sim, member):
    top_up = start(member, "", auth_code=WECHAT_CODE)
    day = timezone.localdate()
    GatewayBill.objects.create(provider="wechatpay", bill_date=day, rows=[])
    missing = reconcile_day(day).of(Kind.MISSING_THERE)
    assert [(i.out_trade_no, i.top_up, i.our_amount) for i in missing] == [
        (top_up.reference, top_up.pk, Decimal("200.00"))
    ]


def test_the_members_page_lists_what_the_books_owe(sim, member):
    start(member, "", auth_code=WECHAT_CODE)
    assert selectors.owed_to_members() == balances() == 200


# The till's page ------------------------------------------------------------------------------

HTMX = {"HX-Request": "true", "Accept-Language": "en"}


def test_the_page_shows_a_pending_qr_and_its_poll_reads_it_until_credited(sim, member, cashier):
    till = Client()
    till.force_login(cashier)
    act = f"/cashier/members/{member.pk}/top-up/"
    answer = till.post(act, {"method": "qr", "amount": "88", "key": "k1", "gateway": "wechatpay"},
                       headers=HTMX)  # fmt: skip
    html = answer.content.decode()
    assert answer.status_code == 200 and "Show the QR code to the member" in html
    top_up = TopUp.objects.get()
    poll = f"/cashier/members/{member.pk}/top-ups/{top_up.pk}/"
    assert f'hx-get="{poll}"' in html and "<svg" in html
    rows = (TopUp.objects.count(), LedgerEntry.objects.count(), Move.objects.count())
    read = till.get(poll, headers=HTMX).content.decode()
    assert 'hx-trigger="every 2s"' in read and 'id="member-form-top-up"' not in read
    assert (TopUp.objects.count(), LedgerEntry.objects.count(), Move.objects.count()) == rows
    sim.decide(top_up.reference)
    services.gateways_settle(now=timezone.now() + LATER)  # the worker asks: paid
    read = till.get(poll, headers=HTMX).content.decode()
    assert "Topped up ¥88" in read and "every 2s" not in read
    assert re.search(r'id="member-balance">¥88<', read)


def test_the_cashier_gives_up_a_qr_top_up_and_it_is_closed_at_the_gateway(sim, member, cashier):
    top_up = start(member, "wechatpay")
    given_up = topups.top_up_cancel(top_up_id=top_up.pk, member_id=member.pk, user=cashier)
    assert given_up.status == "cancelled" and sim.order(top_up.reference)["state"] == "CLOSED"
    assert sim.decide(top_up.reference)[0] == 409 and wallet(member) == (0, 0)
    paid = start(member, "wechatpay", key="t2")
    sim.decide(paid.reference)  # paid while the cashier taps Cancel: the gateway says so
    with pytest.raises(Refused) as refused:
        topups.top_up_cancel(top_up_id=paid.pk, member_id=member.pk, user=cashier)
    assert refused.value.code == Code.ALREADY_PAID
    assert services.gateways_settle(now=timezone.now() + LATER) == 1
    assert wallet(member) == (200, 0) and books_hold()


def test_a_top_up_through_the_sandbox_gateway_is_credited_by_its_signed_notification(
    member, client
):
    from payments.models import SandboxCharge
    from payments.providers import sandbox

    from .conftest import notify

    top_up = start(member, "sandbox", amount="20")
    charge = SandboxCharge.objects.get(out_trade_no=top_up.reference)
    assert top_up.code_url.endswith(f"/sandbox/pay/{charge.pk}/")
    sandbox.gateway_decide(charge.pk, approve=True)
    charge.refresh_from_db()
    for _ in range(3):
        assert notify(client, charge).status_code == 200
    assert wallet(member) == (20, 0) and books_hold()
