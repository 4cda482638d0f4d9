from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RestaurantConfig(AppConfig):
    default = True  # the `restaurant` app's own config (this module holds two)
    name = "restaurant"
    verbose_name = "点餐"


class AxesConfig(AxesAppConfig):
    """django-axes under a name the manager's admin can translate (its own is "Axes")."""

    verbose_name = _("Failed logins")
