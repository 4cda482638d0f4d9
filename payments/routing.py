from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/cashier/", consumers.CashierFloorConsumer.as_asgi()),
    path("ws/cashier/tabs/<int:tab>/", consumers.CashierBillConsumer.as_asgi()),
    path("ws/t/<str:token>/pay/", consumers.PayConsumer.as_asgi()),
]
