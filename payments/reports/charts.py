"""The reports' charts, drawn on the server as SVG (templates/payments/reports/chart.html).

Why not ECharts: the charts here are a handful of bars (sales by hour and by day, method
shares, top dishes). Server-side SVG costs no script (ECharts is ~1 MB of JavaScript, and the
site's CSP allows no inline script), shows before any script runs and on an old phone, prints
crisp in black and grey on the A4 a manager files, and is tested like any other HTML. What it
gives up (hover tooltips, zoom) the table under each chart gives back: every value is written
on its bar and listed in the table. This module only does the geometry; the template escapes
the labels. Columns over time are SVG (scrolling sideways inside their box on a narrow phone,
their text kept readable); rankings and shares are HTML `<meter>` bars, which follow the
reader's text size.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import get_language

from restaurant.lib.money import yuan

WIDTH = 640
LABEL_WIDTH = 150  # horizontal bars: the names on the left
ROW = 26  # horizontal bars: one row's height
COLUMNS_HEIGHT = 220
TOP = 18  # room for the value above the tallest column
BOTTOM = 22  # room for the labels under the columns


@dataclass(frozen=True)
class Mark:
    label: str
    value: Decimal
    text: str  # the value as written on the chart
    x: float
    y: float
    width: float
    height: float

    @property
    def middle(self) -> float:
        """Where a column's label and value are centred."""
        return round(self.x + self.width / 2, 1)


@dataclass
class Chart:
    kind: str  # "columns" (over time) or "bars" (a ranking, a share)
    title: str | Promise
    width: int
    height: int
    marks: list[Mark] = field(default_factory=list)
    label_width: int = LABEL_WIDTH
    baseline: float = 0
    top: Decimal = Decimal(0)  # the largest value: a bar's `max`

    @property
    def empty(self) -> bool:
        if self.kind == "bars":  # a ranking shows its zeros (a dish nobody ordered)
            return not self.marks
        return not any(mark.value for mark in self.marks)

    @property
    def summary(self) -> str:
        """What the chart shows, for screen readers (role="img")."""
        return "; ".join(f"{mark.label}: {mark.text}" for mark in self.marks)


def columns(title: str | Promise, points: list[tuple[str, Decimal]]) -> Chart:
    """Vertical columns, one per point in order (hours, days): the amount written above each."""
    chart = Chart(kind="columns", title=title, width=WIDTH, height=COLUMNS_HEIGHT)
    if not points:
        return chart
    top = max((value for _label, value in points), default=Decimal(0)) or Decimal(1)
    plot = COLUMNS_HEIGHT - TOP - BOTTOM
    step = WIDTH / len(points)
    width = min(step * 0.7, 48.0)  # one day's column is a column, not a wall
    chart.baseline = TOP + plot
    for i, (label, value) in enumerate(points):
        height = float(value / top) * plot if value > 0 else 0.0
        chart.marks.append(
            Mark(
                label=label,
                value=value,
                text=_short(value) if value else "",
                x=round(i * step + (step - width) / 2, 1),
                y=round(TOP + plot - height, 1),
                width=round(width, 1),
                height=round(height, 1),
            )
        )
    return chart


def bars(title: str | Promise, points: list[tuple[str, Decimal]], *, shares: bool = False) -> Chart:
    """Horizontal bars, largest first as given (top dishes, methods): the amount (or, with
    `shares`, the share of the whole in %) written after each bar. The page draws them as
    `<meter>`s in a list (they follow the reader's text size on a phone); the geometry is kept
    for anyone drawing them as SVG."""
    chart = Chart(kind="bars", title=title, width=WIDTH, height=max(1, len(points)) * ROW + 4)
    top = max((value for _label, value in points), default=Decimal(0)) or Decimal(1)
    chart.top = top
    whole = sum((value for _label, value in points), Decimal(0))
    room = WIDTH - LABEL_WIDTH - 90
    for i, (label, value) in enumerate(points):
        text = (
            f"{(value * 100 / whole).quantize(Decimal('0.1'))}%"
            if shares and whole
            else yuan(value)
        )
        chart.marks.append(
            Mark(
                label=label if len(label) <= 12 else label[:11] + "…",
                value=value,
                text=text,
                x=LABEL_WIDTH,
                y=i * ROW + 4,
                width=round(max(float(value / top), 0.0) * room, 1),
                height=ROW - 8,
            )
        )
    return chart


def _short(value: Decimal) -> str:
    """A short amount for the top of a narrow column (¥1.2万 in Chinese, ¥12.3k in English);
    the table under the chart has the exact figure."""
    if value < 10000:
        return yuan(value.quantize(Decimal(1)))
    if (get_language() or "").startswith("zh"):
        return f"¥{(value / 10000).quantize(Decimal('0.1'))}万"
    return f"¥{(value / 1000).quantize(Decimal('0.1'))}k"
