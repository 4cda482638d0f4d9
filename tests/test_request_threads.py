"""A request's Python under daphne runs in its own thread, its middleware and view together:
no hand-over to the event loop and back for every middleware method (restaurant/lib/threads.py;
README, Performance)."""

import threading

import pytest
from asgiref import sync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler
from django.middleware.csrf import CsrfViewMiddleware

pytestmark = pytest.mark.django_db(transaction=True)


async def get(path):
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    app = ApplicationCommunicator(ASGIHandler(), scope)
    await app.send_input({"type": "http.request", "body": b""})
    start = await app.receive_output(5)
    body = await app.receive_output(5)
    await app.wait(5)
    return start["status"], body["body"]


@pytest.mark.asyncio
async def test_a_request_hands_over_between_loop_and_thread_only_a_few_times(monkeypatch):
    calls = []
    plain = sync.SyncToAsync.__call__

    def counted(self, *args, **kwargs):
        calls.append(getattr(self.func, "__qualname__", repr(self.func)))
        return plain(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counted)
    status, body = await get("/ping")
    assert (status, body) == (200, b"pong")
    # Into a thread for request_started's receivers, for the middleware, CSRF's process_view,
    # the view and closing the response; with the chain split between loop and thread it was 13.
    assert len(calls) <= 5, calls


@pytest.mark.asyncio
async def test_the_middleware_and_the_view_run_in_one_thread(monkeypatch):
    seen = {}
    plain_request, plain_view = CsrfViewMiddleware.process_request, CsrfViewMiddleware.process_view

    def process_request(self, request):
        seen["middleware"] = threading.get_ident()
        return plain_request(self, request)

    def process_view(self, request, *args):
        seen["view"] = threading.get_ident()
        return plain_view(self, request, *args)

    monkeypatch.setattr(CsrfViewMiddleware, "process_request", process_request)
    monkeypatch.setattr(CsrfViewMiddleware, "process_view", process_view)
    status, _body = await get("/ping")
    assert status == 200
    assert seen["middleware"] == seen["view"] != threading.get_ident()
