"""The manager's member export (CSV for Excel) holds names diners typed on the table's page:
one that Excel would run as a formula (`=HYPERLINK(…)`, `+`, `-`, `@`) is written as text, with a
leading apostrophe (restaurant/lib/spreadsheet.py); a plain name is as typed."""

import csv
import io

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

HOSTILE = '=HYPERLINK("http://example.com","点我")'


def join(table, name, mobile, pin):
    diner = Client()
    answer = diner.post(f"/t/{table.token}/member/", {"name": name, "mobile": mobile, "pin": pin})
    assert answer.status_code == 302, answer.content


def exported(manager):
    boss = Client()
    boss.force_login(manager)
    answer = boss.get("/cashier/members/export.csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    return {row[1]: row[2] for row in rows[1:]}


@pytest.mark.parametrize("name", [HOSTILE, "+1+1", "-2+3", "@SUM(1)"])
def test_a_name_a_spreadsheet_would_run_is_exported_as_text(table, manager, name):
    join(table, name, "13700000000", "112233")
    join(table, "王芳", "13800138000", "123456")
    names = exported(manager)
    assert names["13700000000"] == "'" + name
    assert names["13800138000"] == "王芳"
