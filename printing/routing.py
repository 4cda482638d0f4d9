from django.urls import path

from . import consumers

# path() routes an ASGI consumer here: django-stubs types it for views only (orders/routing.py).
websocket_urlpatterns = [
    path("ws/printers/", consumers.PrinterAlertConsumer.as_asgi()),  # type: ignore[arg-type]
]
