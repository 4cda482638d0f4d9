"""Writes of the ordering side. Every rule of ordering lives here; its pages and API call these,
and so does the payment side (payments reported, discounts, asking for the bill, closing)."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from menu.models import Dish, MenuState, Option, Station
from menu.signals import dish_availability_changed
from restaurant.lib.approvals import Approval
from restaurant.lib.errors import Code, Refused
from restaurant.lib.money import money, money_str

from . import controls, realtime, selectors, signals
from .models import (
    Area,
    CartItem,
    Diner,
    Order,
    OrderLine,
    Tab,
    TabAdjustment,
    TabEvent,
    Table,
    TabPayment,
)
from .selectors import LIMIT_ALERT_SECONDS, limit_alert_key
from .settlement import (
    SettlementParts,
    adjustment_why,
    price_bill,
    rule_problem,
    settlement_figures,
)


def out_of_stock(dishes: list[dict[str, Any]]) -> Refused:
    """The refusal naming each dish there is too little of and how many are left."""
    names = "、".join(f"{d['name']}" + _("(%(left)s left)") % {"left": d["left"]} for d in dishes)
    return Refused(Code.OUT_OF_STOCK, names=names, extra={"dishes": dishes})


@dataclass
class LineRequest:
    """A line as a page's form or the API's schema read it; its rules are price_lines'."""

    dish: int
    quantity: int = 1
    options: list[int] = field(default_factory=list)
    note: str = ""
    hold: bool = False  # 叫起: the kitchen waits until staff fire it


@dataclass
class PricedLine:
    dish: Dish
    options: list
    quantity: int
    note: str
    hold: bool = False

    @property
    def unit_price(self) -> Decimal:
        return money(self.dish.price + sum((o.price for o in self.options), start=money(0)))

    @property
    def member_price(self) -> Decimal | None:
        """会员价 with the options' prices on top, or None when the dish has none."""
        if self.dish.member_price is None:
            return None
        return money(self.dish.member_price + sum((o.price for o in self.options), start=money(0)))


# Tabs and diners ------------------------------------------------------------------------------


def tab_for_table(*, table: Table, create: bool = True) -> Tab | None:
    """The table's current (not closed) tab, opened now if there is none and `create` is set
    (`selectors.current_tab` only reads)."""
    tab = selectors.current_tab(table)
    if tab is not None:
        tab.table = table
        return tab
    if not create:
        return None
    try:
        with transaction.atomic():
            opened = Tab.objects.create(table=table, **_table_charges(table))
            realtime.push_tab_opened(table.pk, opened.pk)
            transaction.on_commit(
                lambda: signals.tab_opened.send(sender=None, tab_id=opened.pk, table_id=table.pk),
                robust=True,
            )
            tab = opened
    except IntegrityError:
        # Another phone opened it a moment ago; the unique constraint keeps one current tab.
        tab = Tab.objects.exclude(status=Tab.Status.CLOSED).get(table=table)
    tab.table = table
    return tab


def _table_charges(table: Table) -> dict[str, Any]:
    """The charges a visit at this table begins with: its area's per guest, its minimum spend."""
    area = Area.objects.filter(name=table.area).first() if table.area else None
    return {
        "seat_charge": area.seat_charge if area else money(0),
        "seat_charge_name": area.seat_charge_name if area else "",
        "minimum_spend": table.minimum_spend,
    }


def tab_for_visit(
    *, table: Table, shown: int | None, diner_key: str | None = None, staff: bool = False
) -> Tab:
    """The tab a diner's request acts on: the visit its page or API client joined.

    `shown` is the tab the page (or client) named, None when it saw none. A named tab that is not
    the table's current one is refused: that visit ended (an old page, cart or photo). Naming
    none is a phone arriving: it opens the visit at a free table (staff only, under
    TABLE_OPENING=staff) or joins the current one, unless this phone belonged to an earlier
    visit here and not to this one (a page of that visit that lost its field).
    """
    current = tab_for_table(table=table, create=False)
    if shown is not None:
        if current is None or shown != current.pk:
            raise Refused(Code.TAB_CLOSED)
        return current
    if current is None:
        if settings.TABLE_OPENING == "staff" and not staff:
            raise Refused(Code.TABLE_NOT_OPEN)
        opened = tab_for_table(table=table)
        assert opened is not None  # create=True always gives one
        return opened
    if staff or not diner_key:
        return current
    visits = set(
        Diner.objects.filter(tab__table=table, key=diner_key).values_list("tab", flat=True)
    )
    if visits and current.pk not in visits:
        raise Refused(Code.VISIT_REQUIRED)
    return current


def diner_for_tab(*, tab: Tab, key: str) -> Diner:
    """The diner of this browser at this tab, numbered 一号, 二号 … in order of arrival."""
    diner = Diner.objects.filter(tab=tab, key=key).first()
    if diner:
        return diner
    with transaction.atomic():
        # The tab row lock makes numbers unique when two phones arrive at once.
        locked = Tab.objects.select_for_update().get(pk=tab.pk)
        diner, created = Diner.objects.get_or_create(
            tab=locked, key=key, defaults={"number": locked.diner_count + 1}
        )
        if created:
            Tab.objects.filter(pk=tab.pk).update(diner_count=F("diner_count") + 1)
    return diner


def diner_rename(*, diner: Diner, nickname: str) -> None:
    nickname = nickname.strip()
    if len(nickname) > 12:
        raise Refused(Code.BAD_NICKNAME)
    diner.nickname = nickname
    diner.save(update_fields=["nickname"])
    realtime.push_cart(diner.tab_id)


# Validation and pricing -----------------------------------------------------------------------


def _within(number: int, code: Code, maximum: int) -> int:
    """A count from 1 to `maximum` (a setting), or the refusal `code`."""
    if not 1 <= number <= maximum:
        raise Refused(code, max=maximum)
    return number


def price_lines(requests: list[LineRequest]) -> list[PricedLine]:
    """Check every requested line against the menu and price it from the database.

    Refuses anything a kitchen could not make: an unknown or inactive dish, a bad quantity, a
    missing required option, an option of another dish, an over-long note, a sold-out dish.
    The lines' types are the edges' (forms, schemas): ids beyond a 64-bit key are refused there.
    """
    if not requests:
        raise Refused(Code.EMPTY)
    if len(requests) > settings.MAX_ORDER_LINES:
        raise Refused(Code.TOO_MANY_LINES, n=settings.MAX_ORDER_LINES)
    dish_ids = {request.dish for request in requests}
    dishes = {
        dish.pk: dish
        for dish in Dish.objects.filter(pk__in=dish_ids)
        .select_related("category")
        .prefetch_related("option_groups__options")
    }
    priced, sold_out = [], []
    for request in requests:
        dish = dishes.get(request.dish)
        if dish is None or not dish.active or not dish.category.active:
            raise Refused(Code.UNKNOWN_DISH, dish=request.dish)
        quantity = _within(request.quantity, Code.BAD_QUANTITY, settings.MAX_LINE_QUANTITY)
        note = request.note
        if len(note) > settings.MAX_NOTE_LENGTH:
            raise Refused(Code.BAD_NOTE, n=settings.MAX_NOTE_LENGTH)
        options = _check_options(dish, request.options)
        if dish.sold_out or dish.stock == 0:
            sold_out.append({"dish": dish.pk, "name": dish.name, "left": 0})
        priced.append(
            PricedLine(
                dish=dish, options=options, quantity=quantity, note=note.strip(), hold=request.hold
            )
        )
    if sold_out:
        raise out_of_stock(sold_out)
    return priced


def _check_options(dish: Dish, ids: list[int]) -> list[Option]:
    twice = [option_id for option_id, count in Counter(ids).items() if count > 1]
    if twice:
        raise Refused(Code.BAD_OPTIONS, option=twice[0], dish=dish.name)
    by_id = {}
    for group in dish.option_groups.all():
        for option in group.options.all():
            if option.active:
                by_id[option.pk] = (group, option)
    chosen = []
    for option_id in ids:
        if option_id not in by_id:
            raise Refused(Code.BAD_OPTIONS, option=option_id, dish=dish.name)
        chosen.append(by_id[option_id])
    counts = Counter(group.pk for group, _option in chosen)
    for group in dish.option_groups.all():
        count = counts.get(group.pk, 0)
        if count < group.min_choices:
            raise Refused(Code.MISSING_OPTION, group=group.name, dish=dish.name)
        if count > group.max_choices:
            raise Refused(Code.TOO_MANY_OPTIONS, n=group.max_choices, group=group.name)
    return [option for _group, option in chosen]


# The shared cart ------------------------------------------------------------------------------


def _require_open(tab: Tab) -> None:
    """Ordering goes on until the table is closed, except while the bill is being settled; a
    paid (settled) tab may order more and owes again."""
    if tab.status in (Tab.Status.CLOSED, Tab.Status.SETTLING):
        raise Refused(Code.TAB_CLOSED)


@transaction.atomic
def cart_add(*, tab: Tab, diner: Diner, request: LineRequest) -> CartItem:
    """Put a dish in the table's cart; the same dish, options and note by the same phone add up."""
    _require_open(tab)
    (line,) = price_lines([request])
    option_ids = sorted(o.pk for o in line.options)
    for item in CartItem.objects.filter(
        tab=tab, diner=diner, dish=line.dish, note=line.note, held=line.hold
    ).prefetch_related("options"):
        if sorted(o.pk for o in item.options.all()) == option_ids:
            quantity = _within(
                item.quantity + line.quantity, Code.BAD_QUANTITY, settings.MAX_LINE_QUANTITY
            )
            CartItem.objects.filter(pk=item.pk).update(quantity=quantity)
            break
    else:
        if CartItem.objects.filter(tab=tab).count() >= settings.MAX_ORDER_LINES:
            limit_reached(tab, Code.CART_FULL, n=settings.MAX_ORDER_LINES)
        item = CartItem.objects.create(
            tab=tab,
            diner=diner,
            dish=line.dish,
            quantity=line.quantity,
            note=line.note,
            held=line.hold,
        )
        item.options.set(line.options)
    _cart_changed(tab)
    return item


@transaction.atomic
def cart_set_quantity(*, tab: Tab, item_id: int, quantity: int) -> None:
    """Any phone at the table may change any line of the cart; 0 takes it out."""
    _require_open(tab)
    items = CartItem.objects.filter(tab=tab, pk=item_id)
    if quantity <= 0:
        changed = items.delete()[0]
    else:
        changed = items.update(
            quantity=_within(quantity, Code.BAD_QUANTITY, settings.MAX_LINE_QUANTITY)
        )
    if not changed:
        raise Refused(Code.NOT_IN_CART)
    _cart_changed(tab)


def _cart_changed(tab: Tab) -> None:
    Tab.objects.filter(pk=tab.pk).update(cart_version=F("cart_version") + 1)
    realtime.push_cart(tab.pk)


def cart_key(tab: Tab, cart_version: int) -> str:
    """Submitting one version of the cart is one order, however many phones or taps send it."""
    return f"cart-{cart_version}"


def cart_submit(
    *,
    tab: Tab,
    cart_version: int,
    guests: int | None = None,
    diner: Diner | None = None,
    user: User | None = None,
) -> tuple[Order, bool]:
    """Send the table's cart to the kitchen as one order, and empty it for everyone."""
    key = cart_key(tab, cart_version)

    def take_cart(locked_tab: Tab) -> tuple[list[LineRequest], list[Diner | None], list[int]]:
        if locked_tab.cart_version != cart_version:
            raise Refused(Code.CART_CHANGED)
        items = list(
            CartItem.objects.filter(tab=locked_tab)
            .select_related("diner")
            .prefetch_related("options")
        )
        requests = [
            LineRequest(
                dish=i.dish_id,
                quantity=i.quantity,
                options=[o.pk for o in i.options.all()],
                hold=i.held,
                note=i.note,
            )
            for i in items
        ]
        return requests, [i.diner for i in items], [i.pk for i in items]

    return _submit(tab=tab, key=key, guests=guests, take=take_cart, diner=diner, user=user)


def order_submit(
    *,
    tab: Tab,
    key: str,
    lines: list[LineRequest],
    guests: int | None = None,
    diner: Diner | None = None,
    user: User | None = None,
) -> tuple[Order, bool]:
    """Submit an order with explicit lines (the API). The same key again returns the same order.

    Keys live apart from the pages' (`cart-<version>`), so an API client can never make a
    diner's 下单 answer with its order. A key used in an earlier visit of the table is refused:
    a client retrying after the table was closed must not order onto the next guests' bill.
    `key` is 1 to 64 characters, spaces around dropped (the API's schema reads it).
    """
    if key.lower().startswith("cart-"):
        raise Refused(Code.KEY_RESERVED)
    if Order.objects.filter(tab__table_id=tab.table_id, key=key).exclude(tab=tab).exists():
        raise Refused(Code.TAB_CLOSED)

    def take_lines(locked_tab: Tab) -> tuple[list[LineRequest], list[Diner | None], list[int]]:
        return lines, [diner] * len(lines), []

    return _submit(tab=tab, key=key, guests=guests, take=take_lines, diner=diner, user=user)


def _submit(
    *,
    tab: Tab,
    key: str,
    guests: int | None,
    take: Callable[[Tab], tuple[list[LineRequest], list[Diner | None], list[int]]],
    diner: Diner | None,
    user: User | None,
) -> tuple[Order, bool]:
    """Returns (order, created). All or nothing: a refused order leaves cart and stock as they were."""
    shortfall = None
    with transaction.atomic():
        # Locking the tab serializes submissions at one table, so a repeated key always finds
        # the first order instead of racing it, and round numbers never collide.
        locked = Tab.objects.select_for_update().select_related("table").get(pk=tab.pk)
        existing = Order.objects.filter(tab=locked, key=key).first()
        if existing:
            return existing, False
        _require_open(locked)
        requests, diners, cart_ids = take(locked)
        priced = price_lines(requests)
        _check_order_limits(locked, priced)
        if locked.guests is None:
            if guests is None:
                raise Refused(Code.GUESTS_REQUIRED)
            locked.guests = _within(guests, Code.BAD_GUESTS, settings.MAX_GUESTS)
        shortfall = _reserve_stock(priced)
        if not shortfall:
            order = _create_order(locked, key, priced, diners, diner, user)
            if locked.status == Tab.Status.SETTLED:
                _reopen_for_more(locked, user)
            if cart_ids:
                CartItem.objects.filter(pk__in=cart_ids).delete()
                locked.cart_version += 1
            locked.version += 1
            locked.save(update_fields=["guests", "version", "cart_version"])
            if order.awaiting_payment:
                realtime.push_tab(locked.pk)  # the kitchen sees it once it is paid
            else:
                realtime.push_new_order(order.pk, locked.pk)
            if cart_ids:
                realtime.push_cart(locked.pk)
            transaction.on_commit(
                # Robust: a listener that fails (a push) must not keep the others (the
                # kitchen's printers) from hearing of the order; Django logs its error.
                lambda: signals.order_submitted.send_robust(
                    sender=None, order_id=order.pk, tab_id=locked.pk
                ),
                robust=True,
            )
            return order, True
        transaction.set_rollback(True)
    # Outside the rolled-back transaction: report what is really left now.
    left = dict(Dish.objects.filter(pk__in=[d.pk for d in shortfall]).values_list("pk", "stock"))
    raise out_of_stock(
        [{"dish": d.pk, "name": d.name, "left": left.get(d.pk) or 0} for d in shortfall]
    )


def _check_order_limits(tab: Tab, priced: list[PricedLine]) -> None:
    """Limits per order, per minute and per tab, the same for pages and the API (the tab is
    locked, so two phones cannot both pass a limit that only one of their orders fits)."""
    portions = sum(line.quantity for line in priced)
    if portions > settings.MAX_ORDER_PORTIONS:
        limit_reached(tab, Code.TOO_MANY_PORTIONS, n=settings.MAX_ORDER_PORTIONS)
    minute_ago = timezone.now() - timedelta(minutes=1)
    if (
        Order.objects.filter(tab=tab, created_at__gte=minute_ago).count()
        >= settings.MAX_ORDERS_PER_MINUTE
    ):
        limit_reached(tab, Code.ORDERING_TOO_FAST, n=settings.MAX_ORDERS_PER_MINUTE)
    lines = OrderLine.objects.filter(order__tab=tab).exclude(status=OrderLine.Status.VOIDED)
    if lines.count() + len(priced) > settings.MAX_OPEN_LINES:
        limit_reached(tab, Code.TAB_FULL, n=settings.MAX_OPEN_LINES)


def limit_reached(tab: Tab, code: Code, **params: Any) -> NoReturn:
    """Refuse, and tell staff: the cashier's floor flags the tab for LIMIT_ALERT_SECONDS.

    The flag is kept in the cache (Redis in production), not in a row: the refusal rolls back
    the caller's transaction, which would take a row (and an on_commit push) with it.
    """
    cache.set(limit_alert_key(tab.pk), code.value, LIMIT_ALERT_SECONDS)
    signals.limit_hit.send(sender=None, tab_id=tab.pk, code=code)
    raise Refused(code, **params)


def _reopen_for_more(tab: Tab, user: User | None) -> None:
    """加菜 after paying: the tab is open again and owes the difference. The tab is locked."""
    old = tab.transition(Tab.Status.OPEN, user=user, reason="ordered after paying")
    transaction.on_commit(
        lambda: signals.tab_status_changed.send(
            sender=None, tab_id=tab.pk, old=old, new=tab.status
        ),
        robust=True,
    )


def _reserve_stock(priced: list[PricedLine]) -> list[Dish]:
    """Take stock for counted dishes; returns the dishes that had too little (then roll back).

    A conditional UPDATE (stock >= wanted) is the compare-and-set that keeps hundreds of phones
    racing for the last portion from overselling it: the database re-checks the row after
    waiting for the other writer. Dishes are taken in id order so two orders never deadlock.
    """
    wanted: Counter[int] = Counter()
    dishes = {}
    for line in priced:
        if line.dish.stock is not None:
            wanted[line.dish.pk] += line.quantity
            dishes[line.dish.pk] = line.dish
    shortfall, emptied = [], []
    for dish_id in sorted(wanted):
        taken = Dish.objects.filter(pk=dish_id, stock__gte=wanted[dish_id], sold_out=False).update(
            stock=F("stock") - wanted[dish_id]
        )
        if not taken:
            shortfall.append(dishes[dish_id])
        elif Dish.objects.filter(pk=dish_id, stock=0).exists():
            emptied.append(dish_id)
    if emptied and not shortfall:
        _availability_changed(emptied)  # the last portion went: every menu shows it sold out
    return shortfall


def _availability_changed(dish_ids: list[int]) -> None:
    MenuState.bump()
    for dish_id in dish_ids:
        transaction.on_commit(partial(_dish_changed, dish_id), robust=True)


def _dish_changed(dish_id: int) -> None:
    dish_availability_changed.send(sender=Dish, dish_id=dish_id)


def _create_order(
    tab: Tab,
    key: str,
    priced: list[PricedLine],
    diners: list[Diner | None],
    diner: Diner | None,
    user: User | None,
) -> Order:
    number = (
        Order.objects.filter(tab=tab).order_by("-number").values_list("number", flat=True).first()
        or 0
    ) + 1
    now = timezone.now()
    pay_first = settings.SERVICE_FLOW == "pay_first"
    order = Order.objects.create(
        tab=tab,
        number=number,
        key=key,
        diner=diner,
        user=user,
        awaiting_payment=pay_first,
        expires_at=now + timedelta(minutes=settings.PAY_FIRST_EXPIRY_MINUTES)
        if pay_first
        else None,
    )
    lines = []
    for line, line_diner in zip(priced, diners, strict=True):
        unit_price = line.unit_price
        lines.append(
            OrderLine(
                order=order,
                dish=line.dish,
                station_id=line.dish.station_id,
                diner=line_diner,
                name=line.dish.name,
                name_en=line.dish.name_en,
                options=[o.name for o in line.options],
                options_en=[o.name_en or o.name for o in line.options],
                option_ids=[o.pk for o in line.options],
                note=line.note,
                quantity=line.quantity,
                unit_price=unit_price,
                member_price=line.member_price,
                amount=money(unit_price * line.quantity),
                reserved_stock=line.dish.stock is not None,
                status=OrderLine.Status.HELD if line.hold else OrderLine.Status.QUEUED,
                status_at=now,
            )
        )
    OrderLine.objects.bulk_create(lines)
    TabEvent.objects.create(
        tab=tab, kind="order.submitted", diner=diner, user=user, reason=f"#{number}"
    )
    return order


# The kitchen lifecycle ------------------------------------------------------------------------


def line_set_status(
    *,
    line_id: int,
    status: OrderLine.Status,
    user: User | None = None,
    reason: str = "",
    expect: OrderLine.Status | None = None,
) -> OrderLine:
    """Move a line along its lifecycle. An illegal move or a lost race is refused.

    `expect` is the status the screen showed: when the line has moved since, nothing changes.
    """
    with transaction.atomic():
        line = OrderLine.objects.select_related("order").filter(pk=line_id).first()
        if line is None:
            raise Refused(Code.UNKNOWN_LINE)
        if status == OrderLine.Status.VOIDED:
            raise Refused(Code.USE_VOID)
        old = line.transition(status, user=user, reason=reason, expect=expect)
        ready = OrderLine.Status.READY
        realtime.push_order_changed(
            line.order_id, line.order.tab_id, pass_changed=ready in (old, status)
        )
        if old == OrderLine.Status.HELD and status == OrderLine.Status.QUEUED:
            _after_commit(signals.line_fired, line_id=line.pk)
    return line


def _after_commit(signal: Signal, **kwargs: Any) -> None:
    """Tell other apps (printing) once the transaction commits; never during it. Each listener
    hears it even if another fails (Django logs that one's error)."""
    transaction.on_commit(partial(signal.send_robust, sender=None, **kwargs))


def line_bump(*, line_id: int, user: User | None = None) -> OrderLine:
    """Tap a line: queued → cooking → ready → served. Returns the line with `from_status`."""
    line = OrderLine.objects.filter(pk=line_id).only("status").first()
    if line is None:
        raise Refused(Code.UNKNOWN_LINE)
    following = line.next_status
    if following is None:
        raise Refused(
            Code.ILLEGAL_TRANSITION, thing=_("the dish"), status=line.get_status_display()
        )
    return line_set_status(
        line_id=line_id, status=following, user=user, expect=OrderLine.Status(line.status)
    )


def ticket_bump(
    *, order_id: int, station: Station | None = None, user: User | None = None
) -> list[OrderLine]:
    """Tap a ticket's header: every waiting or cooking line of it (at this station) moves on."""
    lines = OrderLine.objects.filter(
        order_id=order_id, status__in=(OrderLine.Status.QUEUED, OrderLine.Status.COOKING)
    )
    if station is not None:
        lines = lines.filter(station=station)
    moved = []
    for line in lines.order_by("id"):
        try:
            moved.append(line_bump(line_id=line.pk, user=user))
        except Refused:
            continue  # another screen moved it first; the others still move
    return moved


def ticket_clear(*, order_id: int, station: Station | None = None, user: User | None = None) -> int:
    """Tap the header of a ticket with nothing left to make: the cook has seen its voided dishes
    (at this station), and the ticket leaves the boards. Returns how many dishes were cleared."""
    with transaction.atomic():
        lines = OrderLine.objects.filter(
            order_id=order_id,
            status=OrderLine.Status.VOIDED,
            void_shown_until__gt=timezone.now(),
        )
        if station is not None:
            lines = lines.filter(station=station)
        # Locked: two cooks clearing one ticket at once record one clearing.
        cleared = list(lines.select_for_update())
        if not cleared:
            return 0
        OrderLine.objects.filter(pk__in=[line.pk for line in cleared]).update(void_shown_until=None)
        tab_id = Order.objects.values_list("tab_id", flat=True).get(pk=order_id)
        TabEvent.objects.bulk_create(
            TabEvent(tab_id=tab_id, line=line, kind="line.void_cleared", user=user)
            for line in cleared
        )
        realtime.push_ticket_changed(order_id)
    return len(cleared)


def line_urge(*, tab: Tab, line_id: int, diner: Diner | None = None) -> OrderLine:
    """催菜: a diner hurries a waiting dish; at most once per URGE_INTERVAL_MINUTES per line."""
    now = timezone.now()
    with transaction.atomic():
        line = OrderLine.objects.filter(pk=line_id, order__tab=tab).first()
        if line is None:
            raise Refused(Code.UNKNOWN_LINE)
        if not line.can_urge:
            raise Refused(Code.NOT_WAITING)
        calm_since = now - timedelta(minutes=settings.URGE_INTERVAL_MINUTES)
        # Compare-and-set on the last urge: ten taps from five phones make one urge.
        urged = (
            OrderLine.objects.filter(pk=line.pk, status=line.status)
            .filter(Q(urged_at__isnull=True) | Q(urged_at__lt=calm_since))
            .update(urged_at=now, urge_count=F("urge_count") + 1)
        )
        if not urged:
            raise Refused(Code.URGED_RECENTLY)
        TabEvent.objects.create(tab=tab, line=line, kind="line.urged", diner=diner)
        realtime.push_order_changed(line.order_id, tab.pk, pass_changed=False)
        _after_commit(signals.line_urged, line_id=line.pk)
    return line


def line_void(
    *,
    line_id: int,
    reason: str,
    user: User | None = None,
    approval: Any = None,
    system: bool = False,
) -> OrderLine:
    """退菜: take a line off the tab with a reason. A line not yet cooking gives its stock back.

    A served dish, or a void that leaves the bill's discounts above a cashier's limit, needs a
    manager's approval (orders/controls.py); `system` is the worker's own void, not checked.
    The tab's total goes down, so the payment side is told (after commit) to refund a paid tab.
    """
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise Refused(Code.REASON_REQUIRED)
    line = OrderLine.objects.select_related("order").filter(pk=line_id).first()
    if line is None:
        raise Refused(Code.UNKNOWN_LINE)
    tab_id = line.order.tab_id
    with (
        controls.refusals_recorded(
            tab_id=tab_id, action="line.void", user=user, approval=approval, line=line
        ),
        transaction.atomic(),
    ):
        # The tab first (the one lock order): the discounts are checked against its lines.
        Tab.objects.select_for_update().filter(pk=tab_id).first()
        line.refresh_from_db(fields=["status"])
        if not line.can_move_to(OrderLine.Status.VOIDED):
            raise Refused(
                Code.ILLEGAL_TRANSITION, thing=_("the dish"), status=line.get_status_display()
            )
        approver = None if system else controls.check_void(line=line, user=user, approval=approval)
        before = controls.discounts(tab_id)
        old = line.transition(
            OrderLine.Status.VOIDED, user=user, reason=reason, approved_by=approver
        )
        if not system:
            by_discounts = controls.check_discounts(
                tab_id=tab_id, before=before, user=user, approval=approval
            )
            if by_discounts and not approver:
                # The void's own event, written by transition() just now, names its approver.
                TabEvent.objects.filter(pk=line.event.pk).update(approved_by=by_discounts)
        if old in OrderLine.KITCHEN_OPEN and not line.order.awaiting_payment:
            # The kitchen had it: the ticket stays on the boards, the dish struck through, so
            # the cook stops making it (selectors.open_tickets), until cleared or it ages out.
            shown_until = timezone.now() + timedelta(minutes=settings.KITCHEN_VOID_MINUTES)
            OrderLine.objects.filter(pk=line.pk).update(void_shown_until=shown_until)
        if (
            line.reserved_stock
            and line.dish_id
            and old in (OrderLine.Status.HELD, OrderLine.Status.QUEUED)
        ):
            Dish.objects.filter(pk=line.dish_id, stock__isnull=False).update(
                stock=F("stock") + line.quantity
            )
            _availability_changed([line.dish_id])
        Tab.objects.filter(pk=tab_id).update(version=F("version") + 1)
        realtime.push_order_changed(
            line.order_id, tab_id, pass_changed=old == OrderLine.Status.READY
        )
        transaction.on_commit(
            lambda: signals.tab_total_changed.send(sender=None, tab_id=tab_id), robust=True
        )
        _after_commit(signals.line_voided, line_id=line.pk, old=old, reason=reason)
    return line


# Tabs -----------------------------------------------------------------------------------------


def tab_set_status(*, tab_id: int, status: str, user: User | None = None, reason: str = "") -> Tab:
    """Move a tab along open → settling → settled → closed (and back where the table allows)."""
    with transaction.atomic():
        tab = Tab.objects.select_for_update().filter(pk=tab_id).first()
        if tab is None:
            raise Refused(Code.UNKNOWN_TAB)
        new = Tab.Status(status)
        if tab.status == new:
            return tab
        old = tab.transition(new, user=user, reason=reason)
        realtime.push_tab(tab.pk)
        if new == Tab.Status.CLOSED:
            realtime.push_visit_ended(tab.pk)  # every phone and socket of the visit is told
        transaction.on_commit(
            lambda: signals.tab_status_changed.send(sender=None, tab_id=tab.pk, old=old, new=new),
            robust=True,
        )
    return tab


# Locks and the payments the payment side reports ------------------------------------------------


def record_payment(
    *,
    tab_id: int,
    payment: int | str,
    method: str,
    amount: Decimal,
    status: str,
    refunded: Decimal = Decimal(0),
    parts: SettlementParts | None = None,
) -> None:
    """The payment side reports a payment (new or changed); the tab's version grows.

    Called inside the payment side's transaction with the tab locked; pushes go out after it
    commits. `parts`, the tab's settlement parts read in that transaction, are kept true in
    memory, so the caller has the settlement after the payment without reading it again.
    """
    number = str(payment)
    fields = {"method": method, "amount": amount, "status": status, "refunded": refunded}
    if parts is None:
        changed = TabPayment.objects.filter(payment=number).update(
            tab_id=tab_id, updated_at=timezone.now(), **fields
        )
        if not changed:
            TabPayment.objects.create(tab_id=tab_id, payment=number, **fields)
    else:
        row = next((row for row in parts.payments if row.payment == number), None)
        if row is None:
            parts.payments.append(
                TabPayment.objects.create(tab_id=tab_id, payment=number, **fields)
            )
        else:
            for name, value in fields.items():
                setattr(row, name, value)
            row.save(update_fields=[*fields, "updated_at"])
        parts.tab.version += 1
    Tab.objects.filter(pk=tab_id).update(version=F("version") + 1)
    realtime.push_tab(tab_id)


def lock_tab(tab_id: int) -> Tab:
    """The tab row, locked until the caller's transaction ends (call inside one)."""
    return Tab.objects.select_for_update().select_related("table").get(pk=tab_id)


# The bill: payments reported, discounts, asking for the bill, closing (the payment side calls these)


def _reason(reason: str, *, required: bool) -> str:
    reason = reason.strip()
    if len(reason) > 200 or (required and not reason):
        raise Refused(Code.REASON_REQUIRED)
    return reason


def _total_changed(tab_id: int) -> None:
    """The payment side refunds a paid tab whose total went down (after commit)."""
    transaction.on_commit(
        lambda: signals.tab_total_changed.send(sender=None, tab_id=tab_id), robust=True
    )


def _require_billable(tab: Tab) -> None:
    if tab.status == Tab.Status.CLOSED:
        raise Refused(Code.TAB_CLOSED)


def _discount(amount: Decimal, maximum: Decimal) -> Decimal:
    amount = money(amount)
    if amount < 0 or amount > maximum:
        raise Refused(Code.BAD_DISCOUNT, max=money_str(maximum))
    return amount


def line_discount_set(
    *,
    line_id: int,
    amount: Decimal,
    reason: str,
    user: User | None = None,
    approval: Approval | None = None,
) -> Tab:
    """A discount on one line in yuan (0 takes it off), with a reason; the line keeps its price.

    The bill's discounts together stay within a cashier's limit unless a manager approves
    (orders/controls.py)."""
    line = OrderLine.objects.select_related("order").filter(pk=line_id).first()
    if line is None:
        raise Refused(Code.UNKNOWN_LINE)
    with (
        controls.refusals_recorded(
            tab_id=line.order.tab_id,
            action="line.discount",
            user=user,
            approval=approval,
            line=line,
        ),
        transaction.atomic(),
    ):
        tab = lock_tab(line.order.tab_id)
        _require_billable(tab)
        if line.status == OrderLine.Status.VOIDED:
            raise Refused(Code.LINE_VOIDED)
        gross = money(line.unit_price * line.quantity)
        amount = _discount(amount, gross)
        reason = _reason(reason, required=amount > 0)
        before = controls.discounts(tab.pk)
        # `amount` is what the line costs after its discount, as in the settlement.
        OrderLine.objects.filter(pk=line.pk).update(
            discount=amount, discount_reason=reason, amount=gross - amount
        )
        approver = controls.check_discounts(
            tab_id=tab.pk, before=before, user=user, approval=approval
        )
        Tab.objects.filter(pk=tab.pk).update(version=F("version") + 1)
        TabEvent.objects.create(
            tab=tab, line=line, kind="line.discount", user=user, approved_by=approver,
            reason=f"{money_str(amount)} {reason}",
        )  # fmt: skip
        realtime.push_tab(tab.pk)
        _total_changed(tab.pk)
    return tab


def tab_discount_set(
    *,
    tab_id: int,
    amount: Decimal,
    reason: str,
    user: User | None = None,
    approval: Approval | None = None,
) -> Tab:
    """A discount on the whole bill in yuan (0 takes it off), with a reason.

    The bill's discounts together stay within a cashier's limit unless a manager approves
    (orders/controls.py)."""
    with (
        controls.refusals_recorded(
            tab_id=tab_id, action="tab.discount", user=user, approval=approval
        ),
        transaction.atomic(),
    ):
        tab = lock_tab(tab_id)
        _require_billable(tab)
        lines = list(OrderLine.objects.filter(order__tab=tab))
        figures = settlement_figures(tab, lines, [])
        line_discounts = sum(
            (line.discount for line in lines if line.status != OrderLine.Status.VOIDED),
            start=Decimal(0),
        )
        amount = _discount(amount, figures["subtotal"] - line_discounts)
        reason = _reason(reason, required=amount > 0)
        before = controls.discounts(tab.pk)
        Tab.objects.filter(pk=tab.pk).update(
            discount=amount, discount_reason=reason, version=F("version") + 1
        )
        approver = controls.check_discounts(
            tab_id=tab.pk, before=before, user=user, approval=approval
        )
        TabEvent.objects.create(
            tab=tab, kind="tab.discount", user=user, approved_by=approver,
            reason=f"{money_str(amount)} {reason}",
        )  # fmt: skip
        realtime.push_tab(tab.pk)
        _total_changed(tab.pk)
    return tab


# Members and money off that the payment side puts on a bill -------------------------------------


def _changed(tab: Tab, kind: str, reason: str, user: User | None) -> None:
    """The bill changed: its version grows, the trail says how, screens and the payment side
    hear of it after commit."""
    Tab.objects.filter(pk=tab.pk).update(version=F("version") + 1)
    TabEvent.objects.create(tab=tab, kind=kind, user=user, reason=reason[:200])
    realtime.push_tab(tab.pk)
    _total_changed(tab.pk)


def _locked_billable(tab_id: int) -> Tab:
    tab = Tab.objects.select_for_update().select_related("table").filter(pk=tab_id).first()
    if tab is None:
        raise Refused(Code.UNKNOWN_TAB)
    _require_billable(tab)
    return tab


def tab_member_set(
    *,
    tab_id: int,
    member_ref: str,
    label: str,
    discount_rate: Decimal | None,
    user: User | None = None,
) -> Tab:
    """A member identified on the bill: its dishes get member prices (settlement step 2).

    `member_ref` is the payment side's opaque reference, `label` what screens show, and
    `discount_rate` the level's: the share of the price a member pays (0.90 = 九折; None: the
    level has none). Another member already on the bill is replaced; the same one again
    changes nothing."""
    if (
        not isinstance(member_ref, str)
        or not 0 < len(member_ref.strip()) <= 64
        or not isinstance(label, str)
        or len(label.strip()) > 60
        or (
            discount_rate is not None
            and (not isinstance(discount_rate, Decimal) or not 0 < discount_rate <= 1)
        )
        or (discount_rate is not None and discount_rate != discount_rate.quantize(Decimal("0.001")))
    ):
        raise Refused(Code.BAD_MEMBER)
    member_ref, label = member_ref.strip(), label.strip()
    with transaction.atomic():
        tab = _locked_billable(tab_id)
        if (tab.member_ref, tab.member_label, tab.member_rate) == (
            member_ref,
            label,
            discount_rate,
        ):
            return tab
        tab.member_ref, tab.member_label, tab.member_rate = member_ref, label, discount_rate
        tab.save(update_fields=["member_ref", "member_label", "member_rate"])
        _changed(tab, "tab.member", f"{label} ({member_ref})", user)
    return tab


def tab_member_clear(*, tab_id: int, user: User | None = None) -> Tab:
    """The member leaves the bill: its dishes are back at their prices. None on it: nothing."""
    with transaction.atomic():
        tab = _locked_billable(tab_id)
        if not tab.member_ref:
            return tab
        left = f"{tab.member_label} ({tab.member_ref})"
        tab.member_ref, tab.member_label, tab.member_rate = "", "", None
        tab.save(update_fields=["member_ref", "member_label", "member_rate"])
        _changed(tab, "tab.member_cleared", left, user)
    return tab


def tab_adjustment_add(
    *,
    tab_id: int,
    kind: str,
    reason: str,
    ref: str,
    rule: dict[str, Any] | None = None,
    amount: Decimal | None = None,
    user: User | None = None,
) -> TabAdjustment:
    """Money off the bill: a coupon (`rule`, orders/settlement.py `rule_problem`) or points (a
    fixed `amount`), evaluated by the settlement against the bill as it is (steps 4–5).

    Refused, changing nothing: a bad kind, rule or amount; a coupon that does not apply to the
    bill as it is now (its minimum, its dishes) or does not combine with one already on it.
    The same (kind, ref) again is the one already there (a retried call)."""
    if kind not in TabAdjustment.Kind.values:
        raise Refused(
            Code.BAD_ADJUSTMENT, problem=f"kind must be one of {TabAdjustment.Kind.values}"
        )
    if not isinstance(ref, str) or not 0 < len(ref.strip()) <= 64:
        raise Refused(Code.BAD_ADJUSTMENT, problem="ref must be 1 to 64 characters")
    if not isinstance(reason, str) or not 0 < len(reason.strip()) <= 200:
        raise Refused(Code.BAD_ADJUSTMENT, problem="reason must be 1 to 200 characters")
    if (rule is None) == (amount is None):
        raise Refused(Code.BAD_ADJUSTMENT, problem="give a rule or an amount, not both")
    if kind == TabAdjustment.Kind.COUPON and rule is None:
        raise Refused(Code.BAD_ADJUSTMENT, problem="a coupon has a rule")
    if rule is not None and (problem := rule_problem(rule)):
        raise Refused(Code.BAD_ADJUSTMENT, problem=problem)
    if amount is not None and (
        not isinstance(amount, Decimal) or amount <= 0 or money(amount) != amount
    ):
        raise Refused(Code.BAD_ADJUSTMENT, problem="amount must be above 0, in yuan and fen")
    ref, reason = ref.strip(), reason.strip()
    with transaction.atomic():
        tab = _locked_billable(tab_id)
        existing = TabAdjustment.objects.filter(tab=tab, kind=kind, ref=ref).first()
        if existing is not None:
            return existing
        adjustment = TabAdjustment.objects.create(
            tab=tab, kind=kind, ref=ref, reason=reason, rule=rule, amount=amount, user=user
        )
        lines = list(OrderLine.objects.filter(order__tab=tab))
        row = price_bill(tab, lines, [])
        mine = next(r for r in row.adjustments if r["kind"] == kind and r["ref"] == ref)
        if not mine["applied"]:
            others = [r["reason"] for r in row.adjustments if r["kind"] == kind and r["ref"] != ref]
            if mine["why"] == "not_combinable":
                raise Refused(Code.NOT_COMBINABLE, name=reason, other="、".join(others))
            raise Refused(Code.NOT_APPLICABLE, name=reason, why=adjustment_why(mine))
        _changed(tab, f"adjustment.{kind}", f"+ {reason} ({ref})", user)
    return adjustment


def tab_adjustment_lower(
    *, tab_id: int, kind: str, ref: str, amount: Decimal, reason: str, user: User | None = None
) -> bool:
    """Lower a fixed money off (points) to `amount`, above 0 and below what it is: the payment
    side gives back what no longer buys anything, so that a dish added later does not take it
    again. False when it is not on the bill or not above `amount` (nothing changes)."""
    if not isinstance(amount, Decimal) or amount <= 0 or money(amount) != amount:
        raise Refused(Code.BAD_ADJUSTMENT, problem="amount must be above 0, in yuan and fen")
    if not isinstance(reason, str) or not 0 < len(reason.strip()) <= 200:
        raise Refused(Code.BAD_ADJUSTMENT, problem="reason must be 1 to 200 characters")
    with transaction.atomic():
        tab = _locked_billable(tab_id)
        adjustment = TabAdjustment.objects.filter(tab=tab, kind=kind, ref=ref).first()
        if adjustment is None or adjustment.amount is None or adjustment.amount <= amount:
            return False
        was = adjustment.amount
        adjustment.amount, adjustment.reason = amount, reason.strip()
        adjustment.save(update_fields=["amount", "reason"])
        _changed(tab, f"adjustment.{kind}_lowered", f"{was} → {amount} ({ref})", user)
    return True


def tab_adjustment_remove(*, tab_id: int, kind: str, ref: str, user: User | None = None) -> bool:
    """Take a coupon or points off the bill; False when it was not on it (nothing changes)."""
    with transaction.atomic():
        tab = _locked_billable(tab_id)
        adjustment = TabAdjustment.objects.filter(tab=tab, kind=kind, ref=ref).first()
        if adjustment is None:
            return False
        adjustment.delete()
        _changed(tab, f"adjustment.{kind}_removed", f"- {adjustment.reason} ({ref})", user)
    return True


@transaction.atomic
def bill_request(*, tab_id: int, diner: Diner | None = None) -> Tab:
    """买单 / "pay at the counter": the diners ask for the bill; the first ask counts."""
    tab = lock_tab(tab_id)
    _require_billable(tab)
    if tab.bill_requested_at is None:
        tab.bill_requested_at = timezone.now()
        tab.save(update_fields=["bill_requested_at"])
        TabEvent.objects.create(tab=tab, kind="bill.requested", diner=diner)
        realtime.push_tab(tab.pk)
    return tab


@transaction.atomic
def orders_release(*, tab_id: int, user: User | None = None) -> list[Order]:
    """Pay first (先付后吃): the tab is paid, so its waiting orders go to the kitchen now."""
    lock_tab(tab_id)
    released = list(selectors.unpaid_orders(tab_id))
    if not released:
        return []
    Order.objects.filter(pk__in=[o.pk for o in released]).update(
        awaiting_payment=False, expires_at=None
    )
    for order in released:
        TabEvent.objects.create(
            tab_id=tab_id, kind="order.released", user=user, reason=f"#{order.number}"
        )
        realtime.push_new_order(order.pk, tab_id)
    _after_commit(signals.orders_released, order_ids=[o.pk for o in released], tab_id=tab_id)
    return released


def orders_expire_unpaid(*, now: datetime | None = None, tab_id: int | None = None) -> list[int]:
    """Pay first: orders not paid in time are taken off (their stock goes back). Returns the ids
    of the tabs changed. Safe in several processes at once: each order expires under its tab's
    lock, and an order another process expired (or a payment released) is skipped."""
    now = now or timezone.now()
    due = Order.objects.filter(awaiting_payment=True, expires_at__lt=now)
    if tab_id is not None:
        due = due.filter(tab_id=tab_id)
    tab_ids = []
    for order_id, order_tab_id in due.filter(Exists(selectors.live_lines())).values_list(
        "pk", "tab_id"
    ):
        with transaction.atomic():
            lock_tab(order_tab_id)
            live = OrderLine.objects.filter(
                order_id=order_id, order__awaiting_payment=True, order__expires_at__lt=now
            ).exclude(status=OrderLine.Status.VOIDED)
            line_ids = list(live.values_list("pk", flat=True))
            for line_id in line_ids:
                line_void(line_id=line_id, reason=_("Not paid in time"), system=True)
        if line_ids:
            tab_ids.append(order_tab_id)
    return tab_ids


@transaction.atomic
def tab_close(
    *, tab_id: int, user: User | None = None, rotate_token: bool = False, reason: str = ""
) -> Tab:
    """Close the tab (the table is free again); optionally give the table a new QR token, so an
    old photo of its code cannot order."""
    tab = tab_set_status(tab_id=tab_id, status=Tab.Status.CLOSED, user=user, reason=reason)
    if rotate_token:
        table = Table.objects.select_for_update().get(pk=tab.table_id)
        table.rotate_token()
        TabEvent.objects.create(tab=tab, kind="table.token_rotated", user=user)
    return tab
