from django.urls import path

from . import consumers

websocket_urlpatterns = [path("ws/printers/", consumers.PrinterAlertConsumer.as_asgi())]
