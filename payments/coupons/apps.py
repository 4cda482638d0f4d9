from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouponsConfig(AppConfig):
    """Coupons (优惠券): a nested app of payments, label `coupons`."""

    name = "payments.coupons"
    label = "coupons"
    verbose_name = _("Coupons")

    def ready(self) -> None:
        from . import receivers  # noqa: F401
