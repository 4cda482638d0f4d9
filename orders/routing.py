from django.urls import path

from . import consumers

# Channels routes ASGI consumers with Django's path(); django-stubs types path() for views only,
# hence the ignores (types-channels' own pattern type is for type checking only).
websocket_urlpatterns = [
    path("ws/t/<str:token>/", consumers.TableConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/kitchen/", consumers.KitchenConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/kitchen/<slug:station>/", consumers.KitchenConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/pass/", consumers.PassConsumer.as_asgi()),  # type: ignore[arg-type]
]
