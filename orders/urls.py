from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("t/<str:token>/", views.diner_page, name="diner"),
    path("t/<str:token>/cart/", views.cart_add, name="cart-add"),
    path("t/<str:token>/cart/<int:item>/", views.cart_update, name="cart-update"),
    path("t/<str:token>/submit/", views.cart_submit, name="submit"),
    path("t/<str:token>/me/", views.diner_rename, name="rename"),
    path("kitchen/", views.kitchen, name="kitchen"),
    path("kitchen/lines/<int:line>/status/", views.kitchen_line_status, name="line-status"),
]
