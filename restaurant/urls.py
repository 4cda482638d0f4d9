from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.static import serve

from . import views
from .api import api

# An outage met outside a view (the session saved after it) answers 503 too (restaurant/lib/outage.py).
handler500 = "restaurant.lib.outage.server_error"

# The admin's "view site" link leads to the staff screens, not to "/" (no page there).
admin.site.site_url = "/staff/"
# The manager sees their restaurant's name, not "Django administration".
admin.site.site_header = format_lazy("{} · {}", settings.RESTAURANT_NAME, _("manager's admin"))
admin.site.site_title = admin.site.site_header

urlpatterns = [
    path("", include("orders.urls")),
    path("", include("payments.urls")),
    path("", include("printing.urls")),
    path("api/v1/", api.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("staff/", views.staff_home, name="staff-home"),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.ping, name="ping"),
]

if settings.SERVE_MEDIA:
    urlpatterns.append(
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    )
