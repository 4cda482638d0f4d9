from django.urls import path

from . import views

urlpatterns = [
    path("", views.today, name="reports-today"),
    path("reconcile/", views.reconciliation, name="reconcile"),
    path("alerts/<int:alert>/handle/", views.alert_handle, name="alert-handle"),
    path("<slug:name>/", views.report, name="report"),
]
