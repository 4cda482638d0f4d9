"""The charts' geometry: columns in proportion to their values on one baseline, bars largest
first with the value or the share written, nothing drawn for an empty period."""

from decimal import Decimal

from payments.reports.charts import bars, columns


def test_columns_stand_on_one_baseline_in_proportion():
    chart = columns("销售", [("1", Decimal(100)), ("2", Decimal(50)), ("3", Decimal(0))])
    tall, half, none = chart.marks
    assert tall.height == 2 * half.height and none.height == 0 and none.text == ""
    assert tall.y + tall.height == half.y + half.height == chart.baseline
    assert tall.text == "¥100" and tall.middle == round(tall.x + tall.width / 2, 1)
    assert all(mark.width <= 48 for mark in chart.marks)
    assert chart.summary == "1: ¥100; 2: ¥50; 3: "


def test_bars_write_the_amount_or_the_share():
    chart = bars("方式", [("现金", Decimal("75")), ("刷卡", Decimal("25"))], shares=True)
    assert [m.text for m in chart.marks] == ["75.0%", "25.0%"] and chart.top == 75
    plain = bars("菜品", [("一道名字非常非常非常长的招牌菜", Decimal("12.5"))])
    assert plain.marks[0].text == "¥12.50" and plain.marks[0].label.endswith("…")


def test_an_empty_or_all_zero_chart_is_empty():
    assert columns("销售", []).empty
    assert columns("销售", [("1", Decimal(0))]).empty
    assert not bars("菜品", [("鱼", Decimal(1))]).empty
    assert not bars("滞销", [("鱼", Decimal(0))]).empty and bars("滞销", []).empty
