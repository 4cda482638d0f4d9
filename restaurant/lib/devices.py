"""Staff devices (kitchen tablet, payment terminal, POS) and their API tokens.

The model belongs to the `restaurant` app (its table `restaurant_devicetoken` and its migrations
are that app's); its code lives in the kernel so that API auth, also the kernel's, imports no app.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from restaurant.lib.roles import CASHIER, KITCHEN, MANAGER


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class DeviceToken(models.Model):
    """A staff device (kitchen tablet, payment terminal, POS) calling the API with a role.

    Only a digest of the token is stored; the token itself is shown once, when it is made.
    """

    class Role(models.TextChoices):
        KITCHEN = KITCHEN, _("kitchen")
        CASHIER = CASHIER, _("cashier")
        MANAGER = MANAGER, _("manager")

    name = models.CharField(_("device"), max_length=60)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("starts with"), max_length=8, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        app_label = "restaurant"
        verbose_name = _("device token")
        verbose_name_plural = _("device tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"

    @classmethod
    def issue(cls, *, name: str, role: str) -> "tuple[DeviceToken, str]":
        """Make a device and return it with its token, which is never stored."""
        raw = "dc_" + secrets.token_urlsafe(32)
        device = cls.objects.create(name=name, role=role, digest=_digest(raw), prefix=raw[:8])
        return device, raw

    @classmethod
    def authenticate(cls, raw: str | None) -> "DeviceToken | None":
        if not raw or len(raw) > 200:
            return None
        device = cls.objects.filter(digest=_digest(raw), active=True).first()
        now = timezone.now()
        # At most one write a minute per device, not one per API call: a device seen within the
        # minute sends no UPDATE at all (the compare-and-set keeps two calls at once to one).
        if device and (
            device.last_used_at is None or device.last_used_at < now - timedelta(minutes=1)
        ):
            stale = models.Q(last_used_at__isnull=True) | models.Q(
                last_used_at__lt=now - timedelta(minutes=1)
            )
            cls.objects.filter(stale, pk=device.pk).update(last_used_at=now)
        return device

    def has_role(self, *roles: str) -> bool:
        return self.role == MANAGER or self.role in roles
