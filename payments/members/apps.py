from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    """Members, their stored value (储值) and points: a nested app of payments, label `members`."""

    name = "payments.members"
    label = "members"
    verbose_name = _("Members")
