"""Where a request's Python runs under daphne: all of it in the request's own thread.

Django's ASGI handler gives every request a thread of its own (asgiref's ThreadSensitiveContext),
so sync views already run side by side, one request's database waits beside another's. What
cost was the middleware *between* them: Django runs a middleware that can be both sync and async
(every `MiddlewareMixin`: CSRF, auth, messages, CSP, axes, htmx…) in the mode of the handler
below it, and the handler at the bottom of the list is async under ASGI. So everything below the
last sync-only middleware ran on the event loop, and each of its `process_request`,
`process_view` and `process_response` hopped into the request's thread and back: about a dozen
hand-overs between two threads per request, each a wake-up of the loop and of the thread
(README, Performance).
"""

from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase


class StayInThread:
    """Middleware, LAST in the list: sync only, so every middleware above it runs sync too, in
    the request's thread, one after the other; the one hop to the loop is here, to reach the view,
    which Django calls in the same thread again."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)
