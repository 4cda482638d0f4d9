from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RestaurantConfig(AppConfig):
    default = True  # the `restaurant` app's own config (this module holds two)
    name = "restaurant"
    verbose_name = "点餐"

    def ready(self) -> None:
        """Staff logins, and failed ones, go into the audit trail (restaurant/lib/audit.py)."""
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from restaurant.lib.audit import login_failure_recorded, login_recorded

        user_logged_in.connect(login_recorded, dispatch_uid="audit-login")
        user_login_failed.connect(login_failure_recorded, dispatch_uid="audit-login-failed")


class AxesConfig(AxesAppConfig):
    """django-axes under a name the manager's admin can translate (its own is "Axes")."""

    verbose_name = _("Failed logins")
