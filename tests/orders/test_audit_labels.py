"""The manager reads a tab's audit trail in words: each event's kind and the statuses it moved
between show their translated labels, not the codes the services write."""

import pytest
from django.test import Client

from orders import services
from orders.models import OrderLine, TabEvent

pytestmark = pytest.mark.django_db


def test_the_tab_page_names_each_event_and_status_in_chinese(manager, menu, table):
    manager.is_staff = True
    manager.save()
    tab = services.tab_for_table(table=table)
    order, _ = services.order_submit(
        tab=tab, key="k", guests=2, lines=[services.LineRequest(dish=menu["fish"].pk)]
    )
    line = order.lines.get()
    services.line_void(line_id=line.pk, reason="客人不要了", user=manager)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(manager)
    page = client.get(f"/admin/orders/tab/{tab.pk}/change/").content.decode()
    assert "已下单" in page and "退菜" in page and "已退菜" in page  # kinds, and a status
    for code in ("order.submitted", "line.voided"):
        assert code not in page
    event = TabEvent.objects.get(kind=TabEvent.Kind.LINE_VOIDED)
    assert event.status_label(event.to_status) == str(OrderLine.Status.VOIDED.label)
