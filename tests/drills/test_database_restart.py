"""Fault drill: PostgreSQL restarted during service.

On the drill's own PostgreSQL (tests/private_servers.py), really restarted with `pg_ctl stop
-m fast` then `start`, as an operator or a package upgrade does: the shared server of the
machine is never touched, and no stand-in is needed. (`pg_terminate_backend` on our
connections would show the clients the same error for the requests in flight, but not the
seconds during which the server accepts no connection at all, nor the pool's idle connections
all dying at once: the restart itself is what the pool has to survive.)

Two requests are held in flight at the moment of the restart, each after it has written
something inside its transaction, by locks the drill holds from a connection of its own:

- a cashier device's cash payment (JSON API), held at the ledger's append lock after its
  payment row and its event were inserted;
- a phone adding a dish to its table's cart with the page's plain form (HTML, no script),
  held at the cart's version after its cart row was inserted.

Both must answer a clear 503 (`database_unavailable`, Chinese or English as asked), neither
may leave anything behind, both succeed when sent again, and the same daphne process serves
every request after the restart without one failure: the pool recovers by itself.
"""

import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import psycopg
import pytest

from payments.ledger import APPEND_LOCK
from tests.drills.test_fault_drills import call, manage, stack  # noqa: F401
from tests.live import Daphne

ZH = "系统暂时无法使用"
EN = "The system is briefly unavailable"


def fetch(url, *, body=None, form=None, token=None, language="zh-hans", accept="application/json"):
    """(status, headers, text) of one request; never raises on an HTTP error status."""
    data = None if body is None else json.dumps(body).encode()
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    request.add_header("Accept-Language", language)
    request.add_header("Accept", accept)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if form is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as failed:
        return failed.code, dict(failed.headers), failed.read().decode()


def rows(url, sql, params=()):
    with psycopg.connect(url, autocommit=True) as db:
        return db.execute(sql, params).fetchall()


def waiting_on_locks(db):
    return db.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> "
        "pg_backend_pid()"
    ).fetchone()[0]


def test_a_postgresql_restart_fails_requests_in_flight_with_a_clear_503_and_the_pool_heals(
    stack,  # noqa: F811
    tmp_path,
):
    pg, tables, dish, cashier = stack["postgres"], stack["tables"], stack["dish"], stack["cashier"]
    server = Daphne(prefix="pgrestart", log_dir=tmp_path, env=stack["env"])
    try:
        # Service before the restart: every table has ordered; the pool is warm.
        for n, token in enumerate(tables[:-1]):
            status, body = call(
                f"{server.url}/api/v1/tables/{token}/orders",
                {"key": f"before-{n}", "guests": 2, "lines": [{"dish": dish, "quantity": 1}]},
            )
            assert status == 201, body
        status, body = call(f"{server.url}/api/v1/tables/{tables[0]}/settlement")
        bill = json.loads(body)
        cart_table = tables[1]
        status, body = call(f"{server.url}/api/v1/tables/{cart_table}/settlement")
        cart_tab = json.loads(body)["tab"]
        counts = (
            "SELECT (SELECT count(*) FROM payments_payment), "
            "(SELECT count(*) FROM payments_paymentevent), "
            "(SELECT count(*) FROM payments_ledgerentry), "
            "(SELECT count(*) FROM orders_cartitem), "
            f"(SELECT cart_version FROM orders_tab WHERE id = {int(cart_tab)})"
        )
        before = rows(pg.url, counts)[0]

        # The drill's own connection holds the locks the two requests will wait on.
        holder = psycopg.connect(pg.url)
        holder.execute("SELECT pg_advisory_lock(%s)", [APPEND_LOCK])
        holder.execute("SELECT id FROM orders_tab WHERE id = %s FOR UPDATE", [cart_tab])
        answers = {}
        pay = {
            "method": "cash",
            "amount": bill["balance_due"],
            "version": bill["version"],
            "key": "cash-in-flight",
        }

        def paying():
            answers["pay"] = fetch(
                f"{server.url}/api/v1/tabs/{bill['tab']}/payments", body=pay, token=cashier
            )

        def adding_to_cart():
            answers["page"] = fetch(
                f"{server.url}/t/{cart_table}/cart/",
                form={"dish": dish, "quantity": 1, "tab": cart_tab},
                accept="text/html",
            )

        threads = [threading.Thread(target=paying), threading.Thread(target=adding_to_cart)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while waiting_on_locks(holder) < 2:
            assert time.monotonic() < deadline, "the two requests never reached their locks"
            time.sleep(0.05)
        # The payment is inside its transaction with its rows written, waiting to append.
        assert rows(pg.url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")[0][0] == 1  # fmt: skip

        restart = time.monotonic()
        pg.stop("fast")  # every backend is told to go: the requests in flight lose theirs
        pg.start()
        down = time.monotonic() - restart
        holder.close()
        for thread in threads:
            thread.join(timeout=30)
        assert down < 10, f"the restart took {down:.1f} s"

        # In flight: a clear 503, in the language asked for, JSON for the API, a page for a page.
        status, headers, text = answers["pay"]
        assert status == 503, text[-2000:]
        refused = json.loads(text)
        assert refused["error"] == "database_unavailable" and ZH in refused["message"]
        assert headers.get("Retry-After") == "5"
        status, headers, text = answers["page"]
        assert status == 503, text[-2000:]
        assert headers["Content-Type"].startswith("text/html") and ZH in text
        assert "Traceback" not in text

        # Nothing half done: the payment's rows and event, the cart's row were rolled back.
        assert rows(pg.url, counts)[0] == before
        assert not rows(pg.url, "SELECT 1 FROM payments_payment WHERE key = 'cash-in-flight'")
        assert "The ledger checks out" in manage(
            {**os.environ, "DEBUG": "true", **stack["env"]}, "check_ledger"
        )

        # The same daphne, not restarted: every request now succeeds, the first one too.
        pid = server.process.pid
        after = []
        for n, token in enumerate(tables[1:-1]):
            after.append(
                call(
                    f"{server.url}/api/v1/tables/{token}/orders",
                    {"key": f"after-{n}", "guests": 2, "lines": [{"dish": dish, "quantity": 1}]},
                )[0]
            )
            after.append(call(f"{server.url}/api/v1/tables/{token}/settlement")[0])
        assert after == [201, 200] * (len(tables) - 2), after
        assert server.process.poll() is None and server.process.pid == pid

        # Sent again, each request does what it was asked, once.
        status, _headers, text = fetch(
            f"{server.url}/api/v1/tabs/{bill['tab']}/payments", body=pay, token=cashier
        )
        assert status == 201, text[-2000:]
        status, _headers, text = fetch(
            f"{server.url}/t/{cart_table}/cart/",
            form={"dish": dish, "quantity": 1, "tab": cart_tab},
            accept="text/html",
        )
        assert status == 200, text[-2000:]  # back on the table's page
        assert rows(pg.url, "SELECT count(*) FROM payments_payment WHERE key = 'cash-in-flight'")[0][0] == 1  # fmt: skip
        assert rows(pg.url, "SELECT count(*) FROM orders_cartitem")[0][0] == before[3] + 1
        assert "The ledger checks out" in manage(
            {**os.environ, "DEBUG": "true", **stack["env"]}, "check_ledger"
        )
    finally:
        server.stop()


@pytest.mark.django_db
def test_the_503_speaks_english_when_asked_and_htmx_gets_it_in_the_banner(monkeypatch):
    """The three shapes of the answer, without a server: the middleware and the API's handler
    meet an OperationalError as a view would when its connection is cut."""
    from django.db import OperationalError
    from django.test import Client

    def cut(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    monkeypatch.setattr("orders.selectors.table_by_token", cut)
    monkeypatch.setattr("orders.selectors.table_visit", cut)  # the diner page's one query
    api = client.get("/api/v1/tables/whatever/tab")
    assert api.status_code == 503 and api.json()["error"] == "database_unavailable"
    assert EN in api.json()["message"] and api["Retry-After"] == "5"
    page = client.get("/t/whatever/")
    assert page.status_code == 503 and EN in page.content.decode()
    flash = client.post("/t/whatever/cart/", {"dish": 1}, HTTP_HX_REQUEST="true")
    assert flash.status_code == 503 and 'id="flash"' in flash.content.decode()
    assert EN in flash.content.decode()


@pytest.mark.django_db
def test_an_outage_when_the_session_is_saved_after_the_view_is_a_503_too(
    monkeypatch, settings, cashier
):
    """A staff login writes its session on the way out, after every middleware's view hooks:
    the outage met there is answered by handler500 as the same clear 503, not a bare 500."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import OperationalError
    from django.test import Client

    create = SessionStore.save

    def cut(self, must_create=False):
        if must_create:  # the login view makes its new session: the database is still there
            return create(self, must_create=True)
        raise OperationalError("terminating connection due to administrator command")

    settings.DEBUG = False  # handler500 answers only where Django's debug page would not
    monkeypatch.setattr(SessionStore, "save", cut)  # the middleware's save, after the view
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    answer = client.post("/accounts/login/", {"username": "cashier", "password": "pw-cashier"})
    assert answer.status_code == 503 and answer["Retry-After"] == "5"
    assert EN in answer.content.decode()
