from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/t/<str:token>/", consumers.TableConsumer.as_asgi()),
    path("ws/kitchen/", consumers.KitchenConsumer.as_asgi()),
    path("ws/kitchen/<slug:station>/", consumers.KitchenConsumer.as_asgi()),
    path("ws/pass/", consumers.PassConsumer.as_asgi()),
]
