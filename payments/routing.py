from django.urls import path

from . import consumers
from .books import consumers as books
from .members import consumers as members
from .reports import consumers as reports

# Channels routes ASGI consumers with Django's path(); django-stubs types path() for views only,
# hence the ignores (types-channels' own pattern type is for type checking only).
websocket_urlpatterns = [
    path("ws/cashier/", consumers.CashierFloorConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/cashier/tabs/<int:tab>/", consumers.CashierBillConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/t/<str:token>/pay/", consumers.PayConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/books/shift/", books.ShiftConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/books/day/", books.DayConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/m/<str:link>/", members.MemberCardConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/cashier/members/<int:member>/", members.TillMemberConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/manager/alerts/", reports.AlertsConsumer.as_asgi()),  # type: ignore[arg-type]
]
