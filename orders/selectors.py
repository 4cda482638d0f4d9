"""Reads that pages, sockets and the API share. Query counts stay constant in the data size."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, models
from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from menu import selectors as menu_selectors
from menu.models import Station
from restaurant.lib.money import MoneyField, money

from .models import CartItem, Diner, Order, OrderLine, Tab, TabEvent, Table
from .settlement import settlement_figures

LIMIT_ALERT_SECONDS = 3600


def limit_alert_key(tab_id: int) -> str:
    return f"limit-hit:{tab_id}"


def limit_alerts(tab_ids: Iterable[int]) -> dict[int, str]:
    """{tab id: the code of the limit it last reached} for tabs flagged within the last hour."""
    found = cache.get_many([limit_alert_key(tab_id) for tab_id in tab_ids])
    return {
        tab_id: found[limit_alert_key(tab_id)]
        for tab_id in tab_ids
        if limit_alert_key(tab_id) in found
    }


def table_by_token(token: str) -> Table:
    table = Table.objects.filter(token=token, active=True).first()
    if table is None:
        raise Http404("No such table")
    return table


@dataclass(frozen=True)
class TableVisit:
    """A table as its diner page reads it, in one query (`table_visit`)."""

    table: Table
    tab: Tab | None  # the current (not closed) visit; None while nobody has opened the table
    diner: Diner | None  # this phone at that visit; None until its first write there
    menu_version: str | None  # None only before the menu's state row exists


def _columns(model: type[models.Model], alias: str) -> tuple[list[str], str]:
    fields = model._meta.concrete_fields
    return [f.attname for f in fields], ", ".join(f'{alias}."{f.column}"' for f in fields)


@lru_cache(maxsize=1)
def _table_visit_sql() -> tuple[str, list[str], list[str], list[str]]:
    table_names, table_columns = _columns(Table, "t")
    tab_names, tab_columns = _columns(Tab, "b")
    diner_names, diner_columns = _columns(Diner, "d")
    sql = (
        f"SELECT {table_columns}, {tab_columns}, {diner_columns}, ({menu_selectors.VERSION_SQL})"
        f' FROM "{Table._meta.db_table}" t'
        f' LEFT JOIN "{Tab._meta.db_table}" b ON b."table_id" = t."id" AND b."status" <> %s'
        f' LEFT JOIN "{Diner._meta.db_table}" d ON d."tab_id" = b."id" AND d."key" = %s'
        ' WHERE t."token" = %s AND t."active"'
    )
    return sql, table_names, tab_names, diner_names


def table_visit(token: str, diner_key: str | None) -> TableVisit:
    """The active table of this token, its current tab, this phone's diner at it and the menu's
    version in one round trip (they were four queries of the diner page); 404 for a bad token.
    At most one row: one current tab per table, one diner per phone and tab (constraints).

    Written in SQL: Django compiled the same query with its joins (FilteredRelation) in 1.5 ms
    of CPU per page, more than the four simple queries it replaced, and this in 0.1 ms. The
    columns come from the models, and the objects are made as the ORM makes them (`from_db`).
    """
    sql, table_names, tab_names, diner_names = _table_visit_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [Tab.Status.CLOSED.value, diner_key or "", token])
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such table")
    at_tab, at_diner, at_version = (
        len(table_names),
        len(table_names) + len(tab_names),
        len(table_names) + len(tab_names) + len(diner_names),
    )
    table = Table.from_db(connection.alias, table_names, row[:at_tab])
    tab = diner = None
    if row[at_tab] is not None:
        tab = Tab.from_db(connection.alias, tab_names, row[at_tab:at_diner])
        tab.table = table
        if row[at_diner] is not None:
            diner = Diner.from_db(connection.alias, diner_names, row[at_diner:at_version])
            diner.tab = tab
    return TableVisit(table=table, tab=tab, diner=diner, menu_version=row[at_version])


def cart_items(tab: Tab | int) -> list[CartItem]:
    """The cart's items, each priced from the menu as it is now (`unit_price`, `amount`)."""
    items = list(
        CartItem.objects.filter(tab=tab).select_related("dish", "diner").prefetch_related("options")
    )
    for item in items:
        item.unit_price = money(
            item.dish.price + sum((o.price for o in item.options.all()), start=0)
        )
        item.amount = money(item.unit_price * item.quantity)
    return items


def cart_summary(items: list[CartItem]) -> tuple[int, Decimal]:
    return sum(item.quantity for item in items), sum(
        (item.amount for item in items), start=money(0)
    )


def tab_orders(tab: Tab | int) -> list[Order]:
    """The tab's orders, each with its lines, oldest first."""
    return list(
        Order.objects.filter(tab=tab).prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
        )
    )


def tab_total(orders: Iterable[Order]) -> Decimal:
    return sum(
        (
            line.amount
            for order in orders
            for line in order.lines.all()
            if line.status != OrderLine.Status.VOIDED
        ),
        start=money(0),
    )


def stations() -> list[Station]:
    return list(Station.objects.all())


def station_by_slug(slug: str | None) -> Station:
    station = Station.objects.filter(slug=slug).first()
    if station is None:
        raise Http404("No such station")
    return station


def kitchen_thresholds() -> dict[str, int]:
    return {
        "warn_minutes": settings.KITCHEN_WARN_MINUTES,
        "late_minutes": settings.KITCHEN_LATE_MINUTES,
    }


def _shown_voids(now: datetime) -> QuerySet[OrderLine]:
    """Dishes voided while the kitchen had them, not yet cleared by a cook nor aged out."""
    return OrderLine.objects.filter(
        order=OuterRef("pk"), status=OrderLine.Status.VOIDED, void_shown_until__gt=now
    )


def _tickets(station: Station | None = None) -> QuerySet[Order]:
    """Orders the kitchen (or one station) still has work on, or a freshly voided dish to show
    struck through, oldest first, each with `kitchen_lines`: its lines at that station. Three
    queries, whatever the number of tickets."""
    open_lines = OrderLine.objects.filter(order=OuterRef("pk"), status__in=OrderLine.KITCHEN_OPEN)
    voids = _shown_voids(timezone.now())
    lines = OrderLine.objects.order_by("id")
    if station is not None:
        open_lines, voids, lines = (q.filter(station=station) for q in (open_lines, voids, lines))
    return (
        Order.objects.filter(Exists(open_lines) | Exists(voids), awaiting_payment=False)
        .select_related("tab__table")
        .prefetch_related(Prefetch("lines", queryset=lines, to_attr="kitchen_lines"))
        .order_by("created_at", "id")
    )


def _as_ticket(order: Any) -> Order:
    """`has_work`: a dish of this board still to make (the header moves them on); else the
    ticket is only showing voids, and `clear_at` is when the last of them ages out (the header
    clears it, the screen drops it then)."""
    order.has_work = any(line.status in OrderLine.KITCHEN_OPEN for line in order.kitchen_lines)
    shown = [
        line.void_shown_until
        for line in order.kitchen_lines
        if line.is_voided and line.void_shown_until
    ]
    order.clear_at = None if order.has_work or not shown else max(shown)
    return order


def open_tickets(station: Station | None = None) -> list[Order]:
    """Every order the kitchen (or one station) still has work on, oldest first."""
    return [_as_ticket(order) for order in _tickets(station)]


def ticket(order_id: int, station: Station | None = None) -> Order | None:
    """One order as a kitchen ticket, or None when that board has nothing left to show of it."""
    order = _tickets(station).filter(pk=order_id).first()
    return _as_ticket(order) if order else None


def board_view(station: Station | None = None) -> dict[str, Any]:
    return {
        "orders": open_tickets(station),
        "station": station,
        "stats": kitchen_stats(),
        **kitchen_thresholds(),
    }


def order_stations(order_id: int) -> list[Station]:
    ids = OrderLine.objects.filter(order_id=order_id).exclude(station=None).values("station_id")
    return list(Station.objects.filter(pk__in=ids))


def kitchen_stats(all_stations: list[Station] | None = None) -> list[dict[str, Any]]:
    """Per station: lines waiting or cooking, and the average minutes from order to ready over
    the last hour. Two queries (three without `all_stations`)."""
    since = timezone.now() - timedelta(hours=1)
    waiting = dict(
        OrderLine.objects.filter(status__in=(OrderLine.Status.QUEUED, OrderLine.Status.COOKING))
        .values_list("station_id")
        .annotate(n=Count("id"))
        .values_list("station_id", "n")
    )
    durations: dict[int | None, list[float]] = {}
    readied = TabEvent.objects.filter(
        kind="line.status", to_status=OrderLine.Status.READY, created_at__gte=since
    )
    for station_id, at, ordered in readied.values_list(
        "line__station_id", "created_at", "line__order__created_at"
    ):
        durations.setdefault(station_id, []).append((at - ordered).total_seconds())
    rows = []
    for station in stations() if all_stations is None else all_stations:
        times = durations.get(station.pk, [])
        rows.append(
            {
                "station": station,
                "waiting": waiting.get(station.pk, 0),
                "average_minutes": round(sum(times) / len(times) / 60) if times else None,
            }
        )
    return rows


def done_tickets(station: Station | None = None) -> list[Order]:
    """Orders finished (at this station) in the last hour, newest first: to bring one back."""
    since = timezone.now() - timedelta(hours=1)
    open_lines = OrderLine.objects.filter(order=OuterRef("pk"), status__in=OrderLine.KITCHEN_OPEN)
    voids = _shown_voids(timezone.now())  # still on the board
    done_lines = OrderLine.objects.filter(
        order=OuterRef("pk"),
        status__in=(OrderLine.Status.READY, OrderLine.Status.SERVED),
        status_at__gte=since,
    )
    lines = OrderLine.objects.order_by("id")
    if station is not None:
        open_lines, voids, done_lines, lines = (
            q.filter(station=station) for q in (open_lines, voids, done_lines, lines)
        )
    return list(
        Order.objects.filter(Exists(done_lines), ~Exists(open_lines), ~Exists(voids))
        .select_related("tab__table")
        .prefetch_related(Prefetch("lines", queryset=lines, to_attr="kitchen_lines"))
        .order_by("-created_at")[:50]
    )


def pass_tables() -> list[dict[str, Any]]:
    """Ready dishes grouped by table, the longest-waiting table first."""
    ready = (
        OrderLine.objects.filter(status=OrderLine.Status.READY)
        .select_related("order__tab__table")
        .order_by("status_at", "id")
    )
    tables: dict[int, dict[str, Any]] = {}
    for line in ready:
        table = line.order.tab.table
        tables.setdefault(table.pk, {"table": table, "lines": []})["lines"].append(line)
    return list(tables.values())


def tabs_with_dish_in_cart(dish_id: int) -> list[int]:
    return list(
        CartItem.objects.filter(dish_id=dish_id).values_list("tab_id", flat=True).distinct()
    )


def active_tables() -> list[Table]:
    return list(Table.objects.filter(active=True))


def current_tab(table: Table) -> Tab | None:
    return Tab.objects.filter(table=table).exclude(status=Tab.Status.CLOSED).first()


def table_tab_id(table: Table, tab_id: int) -> int | None:
    """`tab_id` if it is a tab (current or past) of this table, else None."""
    return Tab.objects.filter(pk=tab_id, table=table).values_list("pk", flat=True).first()


def visit_is_current(tab_id: int, token: str) -> bool:
    """Is this tab still the current one of the table with this code (not closed, not rotated)?"""
    return (
        Tab.objects.filter(pk=tab_id, table__token=token, table__active=True)
        .exclude(status=Tab.Status.CLOSED)
        .exists()
    )


def current_tabs(tables: Iterable[Table]) -> dict[int, Tab]:
    """The current (not closed) tab of each of these tables that has one, by table id."""
    tabs = Tab.objects.exclude(status=Tab.Status.CLOSED).filter(table__in=tables)
    return {tab.table_id: tab for tab in tabs}


def table_by_id(table_id: int) -> Table:
    return Table.objects.get(pk=table_id)


TOKEN_IN_URL = re.compile(r"/t/([A-Za-z0-9_-]{8,40})/?")


def find_table(query: str | None) -> Table | None:
    """A table by what a person types or a scanner reads: its code, its token or its QR URL."""
    query = (query or "").strip()
    if not query or len(query) > 300:
        return None
    found = TOKEN_IN_URL.search(query)
    if found:
        query = found.group(1)
    return (
        Table.objects.filter(active=True, code__iexact=query).first()
        or Table.objects.filter(active=True, token=query).first()
    )


def tab_exists(tab_id: int) -> bool:
    return Tab.objects.filter(pk=tab_id).exists()


def tab_with_table(tab_id: int) -> Tab:
    return Tab.objects.select_related("table").get(pk=tab_id)


def line_tab_id(line_id: int) -> int | None:
    """The id of the tab a dish line is on, or None."""
    return OrderLine.objects.filter(pk=line_id).values_list("order__tab", flat=True).first()


def order_line(line_id: int) -> OrderLine | None:
    """The dish line, or None."""
    return OrderLine.objects.filter(pk=line_id).first()


def diner_by_key(tab: Tab, key: str | None) -> Diner | None:
    """The diner of this phone's key at this tab, or None (a phone that never joined)."""
    return Diner.objects.filter(tab=tab, key=key).first() if key else None


def tab_table_id(tab_id: int) -> int:
    return Tab.objects.values_list("table_id", flat=True).get(pk=tab_id)


def _tab(tab: Tab | int) -> Tab:
    """A Tab as given, or read by its id (pushes after commit read it fresh)."""
    return tab if isinstance(tab, Tab) else Tab.objects.select_related("table").get(pk=tab)


def cart_view(tab: Tab | int) -> dict[str, Any]:
    """What the cart partial shows; the same for every phone at the table."""
    tab = _tab(tab)
    items = cart_items(tab)
    count, total = cart_summary(items)
    return {"tab": tab, "items": items, "cart_count": count, "cart_total": total}


def no_tab_view() -> dict[str, Any]:
    """What the cart and tab partials show at a table nobody has opened yet: nothing."""
    return {"tab": None, "items": [], "cart_count": 0, "cart_total": money(0), "orders": []}


def current_tab_id(table_id: int) -> int | None:
    """The id of the table's current (not closed) tab, or None."""
    return (
        Tab.objects.filter(table_id=table_id)
        .exclude(status=Tab.Status.CLOSED)
        .values_list("pk", flat=True)
        .first()
    )


def table_is_active(token: str) -> bool:
    return Table.objects.filter(token=token, active=True).exists()


def tab_view(tab: Tab | int) -> dict[str, Any]:
    """What the tab partial shows: every round and each dish's status."""
    tab = _tab(tab)
    orders = tab_orders(tab)
    lines = [line for order in orders for line in order.lines.all()]
    bill = settlement_figures(tab, lines, list(tab.payments.all())) if orders else None
    return {"tab": tab, "orders": orders, "bill": bill}


# Pay first -------------------------------------------------------------------------------------


def live_lines() -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(order=OuterRef("pk")).exclude(status=OrderLine.Status.VOIDED)


def unpaid_orders(tab_id: int) -> QuerySet[Order]:
    return Order.objects.filter(tab_id=tab_id, awaiting_payment=True).filter(Exists(live_lines()))


def unpaid_order_count(tab_id: int) -> int:
    return unpaid_orders(tab_id).count()


# Printing (printing/ reads orders only here) ---------------------------------------------------


def order_for_print(order_id: int) -> Order | None:
    """An order with its tab, table and lines (each with its station), or None."""
    return (
        Order.objects.filter(pk=order_id)
        .select_related("tab__table")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("station").order_by("id"))
        )
        .first()
    )


def line_for_print(line_id: int) -> OrderLine | None:
    """A dish line with its order, tab, table and station, or None."""
    return (
        OrderLine.objects.filter(pk=line_id).select_related("order__tab__table", "station").first()
    )


# The books (payments.books): a business day's bills, read with database aggregates --------------


def unsettled_tabs(opened_before: datetime | None = None) -> list[dict[str, Any]]:
    """Tabs whose money is not done (open or settling), opened before that moment if given:
    what a day close must settle or carry over. `[{"tab", "table", "status", "opened_at"}]`,
    oldest first."""
    tabs = Tab.objects.filter(status__in=[Tab.Status.OPEN, Tab.Status.SETTLING])
    if opened_before is not None:
        tabs = tabs.filter(opened_at__lt=opened_before)
    rows = tabs.order_by("opened_at", "id").values("id", "opened_at", "status", "table__code")
    return [
        {
            "tab": r["id"],
            "table": r["table__code"],
            "status": r["status"],
            "opened_at": r["opened_at"],
        }
        for r in rows
    ]


def sales_by_category(tab_ids: Iterable[int]) -> list[dict[str, Any]]:
    """What these tabs sold per menu category, voided dishes left out: portions, amount before
    discounts (`gross`) and line discounts. One query. A dish deleted from the menu since counts
    under no category (`None`)."""
    return list(
        OrderLine.objects.filter(order__tab__in=list(tab_ids))
        .exclude(status=OrderLine.Status.VOIDED)
        .values(category=F("dish__category__name"))
        .annotate(
            portions=Sum("quantity"),
            gross=Sum(F("unit_price") * F("quantity"), output_field=MoneyField()),
            discount=Sum("discount"),
        )
        .order_by("-gross", "category")
    )


def void_totals(tab_ids: Iterable[int]) -> dict[str, Any]:
    """Dishes voided (退菜) on these tabs: how many lines, portions, and their amount. One query."""
    return OrderLine.objects.filter(
        order__tab__in=list(tab_ids), status=OrderLine.Status.VOIDED
    ).aggregate(
        lines=Count("id"),
        portions=Coalesce(Sum("quantity"), 0),
        amount=Coalesce(
            Sum(F("unit_price") * F("quantity"), output_field=MoneyField()), Decimal(0)
        ),
    )


def tab_totals(tab_ids: Iterable[int]) -> dict[str, Any]:
    """How many tabs, guests (covers; a tab with no head count counts its phones), and bill
    discounts. One query."""
    return Tab.objects.filter(pk__in=list(tab_ids)).aggregate(
        tabs=Count("id"),
        guests=Coalesce(Sum(Coalesce("guests", "diner_count")), 0),
        bill_discounts=Coalesce(Sum("discount"), Decimal(0), output_field=MoneyField()),
    )


def table_count() -> int:
    return Table.objects.filter(active=True).count()
