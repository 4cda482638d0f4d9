from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        from . import receivers  # noqa: F401
        from .books import receivers as books_receivers  # noqa: F401
        from .reports import receivers as reports_receivers  # noqa: F401
