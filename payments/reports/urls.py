from django.urls import path

from . import views

urlpatterns = [
    path("", views.today, name="reports-today"),
    path("reconcile/", views.reconciliation, name="reconcile"),
    path("<slug:name>/", views.report, name="report"),
]
