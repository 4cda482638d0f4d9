"""Several daphne processes on one PostgreSQL and one Redis, and screens that outlive a restart."""

import json
import time
import urllib.parse
import urllib.request

import pytest
from django.test import Client

from orders import services
from orders.models import OrderLine
from restaurant.lib.devices import DeviceToken
from tests.live import Daphne

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def servers(needs_postgres, needs_redis, settings, tmp_path):
    """Two processes sharing one channel-layer prefix, as behind one load balancer."""
    started = []

    def start(prefix):
        daphne = Daphne(prefix=prefix, log_dir=tmp_path)
        started.append(daphne)
        return daphne

    yield start
    for daphne in started:
        daphne.stop()


def session_header(user):
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def socket(server, path, cookie=None):
    from websockets.sync.client import connect

    headers = {"Origin": server.url}
    if cookie:
        headers["Cookie"] = cookie
    return connect(
        server.url.replace("http", "ws") + path, additional_headers=headers, open_timeout=10
    )


def wait_for(ws, needle, timeout=10):
    """The first message containing `needle`; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        if needle in message:
            return message
    raise AssertionError(f"no message with {needle!r} within {timeout} s")


def post_json(url, body, token=None):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_an_order_through_one_process_reaches_a_kitchen_on_the_other_and_back(
    servers, cook, table, menu
):
    a, b = servers("scale"), servers("scale")
    _device, token = DeviceToken.issue(name="line tablet", role="kitchen")
    with (
        socket(b, "/ws/kitchen/", session_header(cook)) as kitchen,
        socket(a, f"/ws/t/{table.token}/") as phone,
    ):
        wait_for(kitchen, 'id="board"')
        wait_for(phone, 'data-stream="menu"')  # a free table: nothing yet, the visit opens below
        lines = [{"dish": menu["cucumber"].pk, "quantity": 1}]
        status, placed = post_json(
            f"{a.url}/api/v1/tables/{table.token}/orders", {"key": "x", "guests": 2, "lines": lines}
        )
        assert status == 201
        assert "拍黄瓜" in wait_for(kitchen, f'id="ticket-{placed["id"]}"')
        line_id = placed["lines"][0]["id"]
        status, _ = post_json(
            f"{b.url}/api/v1/kitchen/lines/{line_id}/status", {"status": "cooking"}, token
        )
        assert status == 200
        assert 'id="tab"' in wait_for(phone, "status-cooking")


def test_a_kitchen_screen_reconnecting_after_a_restart_shows_exactly_the_open_tickets(
    servers, cook, table, other_table, menu
):
    cookie = session_header(cook)
    first = servers("restart")
    with socket(first, "/ws/kitchen/", cookie) as kitchen:
        wait_for(kitchen, 'id="board"')
    first.stop()
    # Orders keep coming while the server is down (another process takes them).
    tab = services.tab_for_table(table=table)
    kept = [
        services.order_submit(
            tab=tab, key=f"k{n}", guests=2, lines=[services.LineRequest(dish=menu["cucumber"].pk)]
        )[0]
        for n in range(3)
    ]
    done = services.order_submit(
        tab=services.tab_for_table(table=other_table),
        key="done",
        guests=2,
        lines=[services.LineRequest(dish=menu["fish"].pk)],
    )[0]
    services.line_set_status(line_id=done.lines.get().pk, status=OrderLine.Status.READY)
    second = servers("restart")
    with socket(second, "/ws/kitchen/", cookie) as kitchen:
        board = wait_for(kitchen, 'id="board"')
    for order in kept:
        assert board.count(f'id="ticket-{order.pk}"') == 1
    assert f'id="ticket-{done.pk}"' not in board
    assert board.count('class="ticket"') == len(kept)


def test_idle_sockets_on_redis_stay_connected_past_the_read_timeout(servers, cook, table, menu):
    """redis-py's read timeout once killed idle consumers after 5 s; hold them for 12 s."""
    server = servers("idle")
    with (
        socket(server, "/ws/kitchen/", session_header(cook)) as kitchen,
        socket(server, f"/ws/t/{table.token}/") as phone,
    ):
        wait_for(kitchen, 'id="board"')
        wait_for(phone, 'data-stream="menu"')  # a free table: its first dish opens the visit
        time.sleep(12)
        form = urllib.parse.urlencode({"dish": menu["cucumber"].pk}).encode()
        request = urllib.request.Request(
            f"{server.url}/t/{table.token}/cart/", data=form, method="POST"
        )
        request.add_header("HX-Request", "true")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        assert "拍黄瓜" in wait_for(phone, 'id="cart"')
        kitchen.ping().wait(5)
