from django.urls import include, path

from . import views
from .books import views as books

app_name = "payments"

urlpatterns = [
    path("t/<str:token>/pay/", views.pay_page, name="pay"),
    path("t/<str:token>/pay/start/", views.pay_start, name="pay-start"),
    path("t/<str:token>/pay/counter/", views.pay_at_counter, name="pay-counter"),
    path("t/<str:token>/pay/coupon/", views.pay_coupon, name="pay-coupon"),
    path("t/<str:token>/pay/<int:payment>/cancel/", views.pay_cancel, name="pay-cancel"),
    path("t/<str:token>/pay/alipay/<str:reference>/", views.alipay_wap, name="alipay-wap"),
    path("t/<str:token>/pay/wechat/<str:reference>/", views.wechat_jsapi, name="wechat-jsapi"),
    path("receipt/<str:reference>/", views.receipt, name="receipt"),
    path("cashier/", views.cashier, name="cashier"),
    path("cashier/find/", views.cashier_find, name="find"),
    path("cashier/tabs/<int:tab>/", views.cashier_bill, name="bill"),
    path("cashier/tabs/<int:tab>/pay/", views.cashier_pay, name="take"),
    path("cashier/tabs/<int:tab>/discount/", views.cashier_tab_discount, name="tab-discount"),
    path("cashier/tabs/<int:tab>/coupon/", views.cashier_coupon, name="coupon"),
    path("cashier/tabs/<int:tab>/coupon/off/", views.cashier_coupon_remove, name="coupon-remove"),
    path("cashier/tabs/<int:tab>/member/", views.cashier_member, name="member"),
    path("cashier/tabs/<int:tab>/member/off/", views.cashier_member_leave, name="member-leave"),
    path("cashier/tabs/<int:tab>/points/", views.cashier_points, name="points"),
    path("cashier/tabs/<int:tab>/close/", views.cashier_close, name="close"),
    path("cashier/tabs/<int:tab>/reopen/", views.cashier_reopen, name="reopen"),
    path("cashier/tabs/<int:tab>/receipt/", views.cashier_receipt, name="print"),
    path("cashier/lines/<int:line>/discount/", views.cashier_line_discount, name="line-discount"),
    path("cashier/lines/<int:line>/void/", views.cashier_line_void, name="line-void"),
    path("cashier/payments/<int:payment>/refund/", views.cashier_refund, name="refund"),
    path("cashier/payments/<int:payment>/cancel/", views.cashier_payment_cancel, name="cancel"),
    path("manager/reports/", include("payments.reports.urls")),
    path("", include("payments.members.urls")),
    path("cashier/shift/", books.shift, name="shift"),
    path("cashier/shift/open/", books.shift_open, name="shift-open"),
    path("cashier/shift/cash/", books.shift_cash, name="shift-cash"),
    path("cashier/shift/<int:shift>/hand-over/", books.shift_hand_over, name="shift-hand-over"),
    path("cashier/shift/<int:shift>/slip/", books.shift_slip, name="shift-slip"),
    path("manager/day/", books.day, name="day"),
    path("manager/day/close/", books.day_close, name="day-close"),
    path("manager/day/<str:day>/z/", books.z_report, name="z-report"),
    path("manager/audit/", books.audit, name="audit"),
    path("sandbox/pay/<str:charge>/", views.sandbox_page, name="sandbox"),
    path("sandbox/pay/<str:charge>/decide/", views.sandbox_decide, name="sandbox-decide"),
    path("sandbox/api/<str:op>/", views.sandbox_api, name="sandbox-api"),
    path("sandbox/faults/", views.sandbox_faults, name="sandbox-faults"),
]
