"""Members' pages, in the payments namespace (included by payments/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("cashier/members/", views.till_members, name="members"),
    path("cashier/members/new/", views.till_member_new, name="member-new"),
    path("cashier/members/export.csv", views.till_members_export, name="members-export"),
    path("cashier/members/<int:member>/", views.till_member, name="member-detail"),
    path("cashier/members/<int:member>/<str:action>/", views.till_member_act, name="member-act"),
    path(
        "cashier/members/<int:member>/top-ups/<int:top_up>/",
        views.till_top_up,
        name="member-top-up",
    ),
    path("t/<str:token>/member/", views.diner_join, name="member-join"),
    path("m/<str:link>/", views.member_page, name="member-page"),
    path("m/<str:link>/code/", views.member_code_part, name="member-code"),
    path("m/<str:link>/unlock/", views.member_unlock, name="member-unlock"),
    path("m/<str:link>/lock/", views.member_lock, name="member-lock"),
]
