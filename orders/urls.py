from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("t/<str:token>/", views.diner_page, name="diner"),
    path("t/<str:token>/open/", views.table_open, name="table-open"),
    path("t/<str:token>/dishes/<int:dish>/", views.dish_options, name="dish-options"),
    path("t/<str:token>/cart/", views.cart_add, name="cart-add"),
    path("t/<str:token>/cart/<int:item>/", views.cart_update, name="cart-update"),
    path("t/<str:token>/submit/", views.cart_submit, name="submit"),
    path("t/<str:token>/me/", views.diner_rename, name="rename"),
    path("t/<str:token>/lines/<int:line>/urge/", views.line_urge, name="urge"),
    path("kitchen/", views.kitchen, name="kitchen"),
    path("kitchen/done/", views.kitchen_done, name="kitchen-done"),
    path("kitchen/pass/", views.pass_screen, name="pass"),
    path("kitchen/stock/", views.kitchen_stock, name="kitchen-stock"),
    path("kitchen/recall/", views.kitchen_recall, name="recall"),
    path("kitchen/lines/<int:line>/bump/", views.kitchen_line_bump, name="line-bump"),
    path("kitchen/lines/<int:line>/status/", views.kitchen_line_status, name="line-status"),
    path("kitchen/tickets/<int:order>/bump/", views.kitchen_ticket_bump, name="ticket-bump"),
    path("kitchen/tickets/<int:order>/clear/", views.kitchen_ticket_clear, name="ticket-clear"),
    # Station boards last: a station cannot be called done, pass, stock or recall.
    path("kitchen/<slug:station>/", views.kitchen, name="station"),
    path("staff/tables/", views.staff_tables, name="staff-tables"),
    path("staff/lines/<int:line>/void/", views.line_void, name="line-void"),
]
