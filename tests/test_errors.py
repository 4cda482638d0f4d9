"""One error type: every code has one status and one message, the same on a page and in the API."""

import re

from django.test import Client
from django.utils import translation

from orders import services as order_services
from orders.models import Tab
from restaurant.lib.errors import Code, Refused


def test_every_code_is_distinct_with_a_client_error_status_and_a_chinese_message():
    """Refusals are the client's to fix (4xx); the exceptions are what is out of our reach, the
    database (restaurant/lib/outage.py) or a payment gateway: 503, nobody's request's fault."""
    assert len({code.value for code in Code}) == len(Code)
    for code in Code:
        if code in (Code.DATABASE_UNAVAILABLE, Code.GATEWAY_UNAVAILABLE):
            assert code.status == 503
            continue
        assert 400 <= code.status < 500, code
        assert re.fullmatch(r"[a-z_]+", code.value), code
        with translation.override("en"):
            english = str(code.template)
        with translation.override("zh-hans"):
            chinese = str(code.template)
        assert chinese != english, f"{code.value} has no Chinese message"


def test_a_refusal_fills_its_message_and_adds_its_fields_to_the_answer():
    refused = Refused(Code.OVER_REFUND, left="8.00", extra={"refundable": "8.00"})
    with translation.override("en"):
        assert refused.as_dict() == {
            "error": "over_refund",
            "message": "At most 8.00 of this payment can be given back.",
            "refundable": "8.00",
        }
    assert refused.status == 400


def test_a_closed_tab_is_refused_alike_on_the_diner_page_and_in_the_api(table, menu):
    phone = Client(HTTP_ACCEPT_LANGUAGE="en")
    phone.get(f"/t/{table.token}/")
    order_services.tab_for_table(table=table)  # the table's visit (a look opens none)
    Tab.objects.update(status=Tab.Status.SETTLING)
    page = phone.post(
        f"/t/{table.token}/cart/", {"dish": menu["cucumber"].pk}, HTTP_HX_REQUEST="true"
    )
    api = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        f"/api/v1/tables/{table.token}/orders",
        {"key": "k1", "guests": 2, "lines": [{"dish": menu["cucumber"].pk}]},
        content_type="application/json",
    )
    with translation.override("en"):
        message = Refused(Code.TAB_CLOSED).message
    assert page.status_code == api.status_code == 409
    assert api.json() == {"error": "tab_closed", "message": message}
    assert message in page.content.decode().replace("&#x27;", "'")
