"""Alerts (提醒) for the manager: things the system found that a person must look at, such as a
gateway's bill that does not match ours or never arrived, or a scheduled backup that failed.

An alert is a row, raised once: its `key` says what it is about (a gateway's order number, a
day's backup) and is unique, so the worker's copies, the reconciliation page and a second run
all raise it once. Raising publishes an event on the `alerts` stream after commit; the
manager's "today at a glance" page follows it (payments/reports) and shows it at once. The
manager marks an alert handled with a note: who, when and the note are kept on it, and the
handling is an entry of the audit trail. Nothing else changes an alert; it is never deleted.

The model belongs to the `restaurant` app (its table and migrations are that app's, as the audit
trail's); its code is the kernel's, so that any app may raise an alert and the kernel still
imports no app. The text is written when shown, in the reader's language, from the kind's
sentence and the values kept in `detail`.
"""

import logging
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from restaurant.lib.audit import AuditEntry, audit_record
from restaurant.lib.errors import Code, Refused
from restaurant.lib.realtime import publish_on_commit

logger = logging.getLogger("alerts")

ALERTS = "alerts"  # the stream the manager's screens follow
NOTE_MAX = 200

# Values kept in `detail` that are English words to translate when shown (gateway names, what
# was asked); the others (numbers, amounts, days, an error's text) are shown as kept.
TRANSLATED = ("gateway", "what", "outcome")


class Alert(models.Model):
    class Kind(models.TextChoices):
        MISSING_HERE = "reconcile_missing_here", _("Paid at the gateway, not recorded here")
        AMOUNT_DIFFERS = "reconcile_amount_differs", _("Amount differs from the gateway's")
        MISSING_THERE = "reconcile_missing_there", _("Recorded here, not at the gateway")
        BILL_MISSING = "bill_missing", _("Gateway's bill missing")
        BACKUP_FAILED = "backup_failed", _("Scheduled backup failed")

    key = models.CharField(_("about"), max_length=200, unique=True)
    kind = models.CharField(_("what"), max_length=40, choices=Kind.choices)
    raised_at = models.DateTimeField(_("raised"), default=timezone.now, db_index=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    link = models.CharField(_("where to act"), max_length=300, blank=True)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True, db_index=True)
    # Who handled it, as id and login name, not a foreign key (as the audit trail keeps it).
    handled_by_id = models.IntegerField(_("handled by (id)"), null=True, blank=True)
    handled_by = models.CharField(_("handled by"), max_length=150, blank=True)
    note = models.CharField(_("note"), max_length=NOTE_MAX, blank=True)

    class Meta:
        app_label = "restaurant"
        ordering = ["-raised_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")

    def __str__(self) -> str:
        return self.text

    @property
    def is_handled(self) -> bool:
        return self.handled_at is not None

    @property
    def text(self) -> str:
        """The alert's sentence in the active language."""
        values = {
            name: gettext(value) if name in TRANSLATED and isinstance(value, str) else value
            for name, value in self.detail.items()
        }
        try:
            return str(SENTENCES[self.kind]) % values
        except (KeyError, TypeError, ValueError):  # a kind or value this code does not know
            return str(self.get_kind_display())


SENTENCES: dict[str, Any] = {
    Alert.Kind.MISSING_HERE: _(
        "%(gateway)s's bill of %(day)s has %(what)s %(number)s of ¥%(amount)s that is not "
        "recorded here (%(outcome)s)."
    ),
    Alert.Kind.AMOUNT_DIFFERS: _(
        "%(gateway)s's bill of %(day)s has %(what)s %(number)s at ¥%(amount)s; here it is "
        "¥%(ours)s."
    ),
    Alert.Kind.MISSING_THERE: _(
        "The %(what)s %(number)s of ¥%(amount)s, recorded here on %(day)s, is on no bill of "
        "%(gateway)s."
    ),
    Alert.Kind.BILL_MISSING: _(
        "%(gateway)s's bill of %(day)s was still not in at %(by)s the next day; payments and "
        "refunds through %(gateway)s that day: %(count)s. The worker tries again every hour "
        "until midnight; you can also download the bill from %(gateway)s's merchant site and "
        "upload it on the reconciliation page."
    ),
    Alert.Kind.BACKUP_FAILED: _("The scheduled backup of %(day)s failed: %(error)s"),
}


def alert_raise(*, key: str, kind: str, detail: dict[str, Any], link: str = "") -> Alert | None:
    """Raise the alert `key` once: the new alert, or None when it was raised before (by this
    or another process, whether handled since or not). Its event leaves after commit."""
    with transaction.atomic():
        if Alert.objects.filter(key=key).exists():
            return None
        try:
            # A savepoint: two workers raising the same alert at once meet the unique key, and
            # the one that loses rolls back only its insert.
            with transaction.atomic():
                alert = Alert.objects.create(key=key[:200], kind=kind, detail=detail, link=link)
        except IntegrityError:
            return None
        with translation.override("en"):
            logger.warning("alert: %s", alert.text)
        publish_on_commit(ALERTS, kind="alert", alert=alert.pk)
    return alert


def alert_handle(
    *, alert_id: int, user: AbstractBaseUser | AnonymousUser, note: str
) -> tuple[Alert, bool]:
    """Mark an alert handled by `user` with a note (required, at most NOTE_MAX characters).
    (the alert, True) when this call handled it; (the alert, False) when it was handled already
    (a second tap, or two managers at once: the first note stays). Alert.DoesNotExist for an
    unknown id."""
    note = note.strip()
    if not note or len(note) > NOTE_MAX:
        raise Refused(Code.REASON_REQUIRED)
    with transaction.atomic():
        alert = Alert.objects.get(pk=alert_id)
        name = user.get_username() if user.is_authenticated else ""
        # Compare-and-set on "not handled yet": two managers handling it at once write once.
        handled = Alert.objects.filter(pk=alert_id, handled_at=None).update(
            handled_at=timezone.now(),
            handled_by_id=user.pk if user.is_authenticated else None,
            handled_by=name[:150],
            note=note,
        )
        alert.refresh_from_db()
        if handled:
            audit_record(
                kind=AuditEntry.Kind.ALERT,
                user=user,
                subject=alert.text[:200],
                reason=note,
                detail={"alert": alert.pk, "key": alert.key},
            )
            publish_on_commit(ALERTS, kind="alert", alert=alert.pk)
    return alert, bool(handled)


def alerts_open(limit: int = 50) -> tuple[list[Alert], int]:
    """The newest `limit` alerts nobody has handled yet, and how many there are in all."""
    shown = list(Alert.objects.filter(handled_at=None)[:limit])
    return shown, len(shown) if len(shown) < limit else Alert.objects.filter(
        handled_at=None
    ).count()


def alerts_handled_since(moment: Any, limit: int = 20) -> list[Alert]:
    """Alerts handled since `moment`, the last handled first (who, when and the note)."""
    return list(Alert.objects.filter(handled_at__gte=moment).order_by("-handled_at")[:limit])
