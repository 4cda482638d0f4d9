"""The manager's report pages, their exports read back with the libraries that read them, and
the reconciliation page with an uploaded WeChat Pay bill file."""

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from orders.models import Order, OrderLine, Tab, Table
from payments.models import GatewayBill
from payments.reports import tables

from .report_day import make_day

pytestmark = pytest.mark.django_db
PERIOD = "from=2026-12-01&to=2026-12-01"


@pytest.fixture
def day(menu, cashier, manager):
    return make_day(menu, cashier, manager)


@pytest.fixture
def boss(client, manager):
    client.force_login(manager)
    return client


def test_only_a_manager_opens_the_reports(client, cashier, day):
    client.force_login(cashier)
    assert client.get("/manager/reports/sales/").status_code == 403
    assert client.get("/manager/reports/").status_code == 403
    assert client.get("/manager/reports/reconcile/").status_code == 403


# The table body as the page wrote it before `report_rows` (a template loop per cell).
CELL_BY_CELL = (
    "{% load payments_tags %}{% for row in report.lines %}<tr>{% for value, kind in row %}"
    '<td class="{{ kind }}">{{ value|report_cell:kind }}</td>{% endfor %}</tr>\n    {% endfor %}'
)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_rows_tag_writes_what_the_cell_by_cell_template_wrote(day, language):
    """`report_rows` writes the table in Python for speed (bench/bench_reports.py); every
    report's rows, in both languages, are the same characters the per-cell template wrote."""
    from django.template import Context, Template
    from django.utils import translation

    from payments.reports.figures import Period
    from payments.templatetags.payments_tags import report_rows

    with translation.override(language):
        for name in tables.REPORTS:
            report = tables.build(name, Period.days(date(2026, 12, 1)))
            assert report.rows, name
            expected = Template(CELL_BY_CELL).render(Context({"report": report}))
            assert report_rows(report) == expected, name


def test_the_sales_page_shows_the_days_figures_and_a_chart(boss, day):
    page = boss.get(f"/manager/reports/sales/?{PERIOD}").content.decode()
    assert "销售" in page and "¥310" in page and "¥290" in page  # sales, received
    assert "<svg" in page and 'role="img"' in page
    assert "¥320" in page  # the day's dish sales in the table and on its column


def test_each_report_page_answers_with_its_rows(boss, day):
    expected = {
        "hours": "18:00", "dishes": "清蒸鲈鱼", "categories": "凉菜", "methods": "微信支付",
        "tables": "牡丹厅", "areas": "包间", "staff": "cashier", "members": "当前储值余额",
    }  # fmt: skip
    for name, text in expected.items():
        answer = boss.get(f"/manager/reports/{name}/?{PERIOD}")
        assert answer.status_code == 200, name
        assert text in answer.content.decode(), name


def test_a_bad_period_is_refused_with_a_clear_message(boss, day):
    for query in ("from=2026-13-01", "from=2026-12-07&to=2026-12-01",
                  "from=2024-01-01&to=2026-12-01", "unit=year"):  # fmt: skip
        answer = boss.get(f"/manager/reports/sales/?{query}")
        assert answer.status_code == 400, query
        assert "日期" in answer.content.decode()
    assert boss.get("/manager/reports/nothing/").status_code == 404


def test_the_csv_export_has_chinese_headers_the_filters_and_amounts_as_numbers(boss, day):
    answer = boss.get(f"/manager/reports/dishes/?{PERIOD}&format=csv")
    assert answer["Content-Type"].startswith("text/csv")
    assert 'filename="dishes-2026-12-01.csv"' in answer["Content-Disposition"]
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["报表", "菜品"]
    assert rows[1] == ["日期范围", "2026-12-01"]
    header = rows.index(
        ["排名", "菜品", "分类", "份数", "销售额", "占比 %", "退菜份数", "退菜金额"]
    )
    assert rows[header + 1] == ["1", "清蒸鲈鱼", "热菜", "2", "176.00", "55.0", "1", "88.00"]
    assert Decimal(rows[header + 2][4]) == Decimal("108.00")


def test_the_xlsx_export_reads_back_with_numbers_and_filters(boss, day):
    answer = boss.get("/manager/reports/sales/?from=2026-11-30&to=2026-12-02&unit=day&format=xlsx")
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:2] == ["报表", "销售"]
    assert rows[1][:2] == ["日期范围", "2026-11-30 – 2026-12-02"]
    assert rows[2][:2] == ["按", "日"]
    header = next(i for i, row in enumerate(rows) if row[0] == "日期")
    assert rows[header] == ["日期", "单数", "客数", "菜品销售额", "整单折扣", "净额"]
    day1 = rows[header + 2]
    assert day1[0].date() == date(2026, 12, 1)
    assert day1[1:] == [3, 12, 320, 10, 310]  # numbers, not text
    assert sheet.cell(row=header + 3, column=4).number_format == "#,##0.00"


def test_the_today_page_shows_the_floor_and_refreshes_itself(boss, day, menu):
    now = timezone.now()
    left = Tab.objects.create(table=Table.objects.create(code="B1"), guests=3,
                              opened_at=now - timedelta(days=2))  # fmt: skip
    seated = Tab.objects.create(table=Table.objects.create(code="B2"), guests=5, opened_at=now)
    order = Order.objects.create(tab=seated, number=1, key="k", created_at=now)
    OrderLine.objects.create(order=order, dish=menu["fish"], name="清蒸鲈鱼", quantity=1,
                             unit_price=Decimal(88), amount=Decimal(88))  # fmt: skip
    page = boss.get("/manager/reports/").content.decode()
    assert 'hx-trigger="every 30s"' in page
    assert "有 1 张前几天的账单还在开着" in page  # B1, opened two days ago
    assert left.pk and "¥100" in cards_of(page)["未结账单菜品"]  # B2's fish, bill 4's cucumber
    cards = cards_of(page)
    assert cards["在座桌数"] == "3" and cards["在座客人"] == "9"  # B1, B2 and bill 4 of the day
    part = boss.get("/manager/reports/", headers={"HX-Request": "true"}).content.decode()
    assert part.lstrip().startswith('<section id="glance"')


def cards_of(page):
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", page))


WECHAT_HEAD = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
               "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
               "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
               "费率备注")  # fmt: skip


def wechat_file(*trades):
    lines = [WECHAT_HEAD]
    for when, reference, amount in trades:
        values = [when, "wxapp", "1900000001", "0", "", "4200" + reference, reference, "openid",
                  "NATIVE", "SUCCESS", "OTHERS", "CNY", amount, "0.00", "0", "0", "0.00", "0.00",
                  "", "", "点餐", "", "0.31", "0.60%", amount, "0.00", ""]  # fmt: skip
        lines.append(",".join("`" + v for v in values))
    lines.append(
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
    )
    lines.append("`1,`52.00,`0.00,`0.00,`0.31,`52.00,`0.00")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def test_the_manager_uploads_the_wechat_bill_and_sees_it_reconciled(boss, day):
    upload = SimpleUploadedFile(
        "bill.csv", wechat_file(("2026-12-01 19:55:00", "dcbill2wechat", "52.00"))
    )
    answer = boss.post("/manager/reports/reconcile/",
                       {"day": "2026-12-01", "provider": "wechatpay", "file": upload,
                        "action": "upload"})  # fmt: skip
    assert answer.status_code == 302
    bill = GatewayBill.objects.get(provider="wechatpay", bill_date=date(2026, 12, 1))
    assert bill.rows[0]["out_trade_no"] == "dcbill2wechat" and len(bill.digest) == 64
    page = boss.get(answer["Location"]).content.decode()
    assert "dcbill2wechat" in page and "¥0.31" in page
    assert "已对平" in page


def test_a_bill_file_of_another_day_or_not_a_bill_is_refused_and_nothing_kept(boss, day):
    other_day = SimpleUploadedFile("bill.csv", wechat_file(("2026-11-30 19:55:00", "dcx", "1.00")))
    answer = boss.post("/manager/reports/reconcile/",
                       {"day": "2026-12-01", "provider": "wechatpay", "file": other_day,
                        "action": "upload"})  # fmt: skip
    assert answer.status_code == 400 and "2026-11-30" in answer.content.decode()
    junk = SimpleUploadedFile("bill.csv", b"hello,world\n")
    answer = boss.post("/manager/reports/reconcile/",
                       {"day": "2026-12-01", "provider": "alipay", "file": junk,
                        "action": "upload"})  # fmt: skip
    assert answer.status_code == 400
    assert not GatewayBill.objects.exists()


def test_the_report_pages_and_exports_write_nothing(boss, day):
    from tests.writes import statements

    paths = [f"/manager/reports/{name}/?{PERIOD}" for name in tables.REPORTS]
    paths += [f"/manager/reports/dishes/?{PERIOD}&format=xlsx", "/manager/reports/",
              "/manager/reports/reconcile/?day=2026-12-01"]  # fmt: skip
    for path in paths:
        with statements() as seen:
            assert boss.get(path).status_code == 200, path
        # The session's last-seen touch is Django's, not the report's.
        assert [sql for sql in seen.writes() if "django_session" not in sql] == [], path


def test_a_name_that_looks_like_a_formula_is_exported_as_text(boss, day, menu):
    """A dish named by a careless or hostile hand as a formula stays text in CSV and .xlsx."""
    formula = '=HYPERLINK("http://example.invalid","点我")'
    OrderLine.objects.filter(name="清蒸鲈鱼").update(name=formula)
    menu["fish"].__class__.objects.filter(pk=menu["fish"].pk).update(name=formula)
    text = boss.get(f"/manager/reports/dishes/?{PERIOD}&format=csv").content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert ["1", "'" + formula] == rows[rows.index(next(r for r in rows if r[:1] == ["1"]))][:2]
    answer = boss.get(f"/manager/reports/dishes/?{PERIOD}&format=xlsx")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == formula]
    assert cells and all(cell.data_type == "s" for cell in cells)
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
