from django.urls import path

from . import views

app_name = "printing"

urlpatterns = [
    path("printing/", views.print_queue, name="queue"),
    path("printing/jobs/<int:job>/reprint/", views.job_reprint, name="reprint"),
    path("printing/printers/<int:printer>/move/", views.jobs_move, name="move"),
    path("printing/tabs/<int:tab>/prebill/", views.prebill_print, name="prebill"),
    path("printing/tabs/<int:tab>/receipt/", views.receipt_print, name="receipt"),
    path("printing/shifts/<int:shift>/handover/", views.handover_print, name="handover"),
]
