"""The audit trail (稽核): one searchable record of who did what, when, to which table, and why.

Every app writes it through `audit_record`, inside the transaction of the change it records, so
an entry exists exactly when its change committed. The model belongs to the `restaurant` app
(its table and migrations are that app's, as DeviceToken's); its code is the kernel's, so that
any app may write it and the kernel still imports no app.

It is append-only: the application never changes or deletes an entry (save of an existing row,
delete, queryset update and delete raise `AuditIsAppendOnly`), and on PostgreSQL a trigger
refuses UPDATE, DELETE and TRUNCATE whoever asks (restaurant migration 0004). Who did it is kept
as the user's id *and* login name, not a foreign key: deleting a staff account must neither
rewrite the trail nor be refused by it.
"""

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from restaurant.lib.money import MoneyField


class AuditIsAppendOnly(Exception):
    """The audit trail is never edited."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditIsAppendOnly("Audit entries are never changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditIsAppendOnly("Audit entries are never deleted.")


class AuditEntry(models.Model):
    class Kind(models.TextChoices):
        VOID = "void", _("void (退菜)")
        DISCOUNT = "discount", _("discount")
        REFUND = "refund", _("refund")
        PRICE = "price", _("price change")
        MENU = "menu", _("menu change")
        STOCK = "stock", _("stock change")
        MEMBER = "member", _("member adjustment")
        SHIFT = "shift", _("shift handover")
        CASH = "cash", _("cash paid in or out")
        DAY_CLOSE = "day_close", _("day close")
        CARRY_OVER = "carry_over", _("carried over")
        LOGIN = "login", _("login")
        LOGIN_FAILED = "login_failed", _("failed login")
        ALERT = "alert", _("alert handled")

    kind = models.CharField(_("what"), max_length=20, choices=Kind.choices, db_index=True)
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    user_id = models.IntegerField(_("staff id"), null=True, blank=True, db_index=True)
    actor = models.CharField(_("who"), max_length=150, blank=True, db_index=True)
    approved_by = models.CharField(_("approved by"), max_length=150, blank=True)
    table = models.CharField(_("table"), max_length=40, blank=True, db_index=True)
    subject = models.CharField(_("about"), max_length=200, blank=True)
    amount = MoneyField(_("amount"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        app_label = "restaurant"
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.actor} {self.subject}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditIsAppendOnly("Audit entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditIsAppendOnly("Audit entries are never deleted.")


Someone = AbstractBaseUser | AnonymousUser | None


def audit_record(
    *,
    kind: str,
    user: Someone = None,
    actor: str = "",
    approved_by: Someone = None,
    table: str = "",
    subject: str = "",
    amount: Decimal | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. `user` is who did it (`actor` names someone without an account, such
    as a failed login's name); call it inside the transaction of the change it records."""
    known = user if user is not None and user.is_authenticated else None
    return AuditEntry.objects.create(
        kind=kind,
        user_id=known.pk if known else None,
        actor=(known.get_username() if known else actor)[:150],
        approved_by=(
            approved_by.get_username()
            if approved_by is not None and approved_by.is_authenticated
            else ""
        ),
        table=table[:40],
        subject=subject[:200],
        amount=amount,
        reason=reason[:200],
        detail=detail or {},
    )


# Logins: connected to Django's auth signals in RestaurantConfig.ready() ------------------------


def _address(request: HttpRequest | None) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def login_recorded(
    sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any
) -> None:
    """Staff logins (a diner never logs in; every account here is staff)."""
    audit_record(kind=AuditEntry.Kind.LOGIN, user=user, detail={"address": _address(request)})


def login_failure_recorded(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A failed login, under the name that was typed (never the password: Django has already
    masked it, and only the name is read here)."""
    name = str(credentials.get("username", ""))
    audit_record(
        kind=AuditEntry.Kind.LOGIN_FAILED,
        actor=name,
        subject=name,
        detail={"address": _address(request)},
    )


# Menu edits in the admin: the admin's own change log, copied into the trail ------------------


if TYPE_CHECKING:  # what the mixin's super() reaches: a ModelAdmin's methods
    from django.contrib.admin import ModelAdmin as _AdminBase
else:
    _AdminBase = object


class AuditedAdmin(_AdminBase):
    """A ModelAdmin mixin: every addition, change and deletion made in the admin is also an
    audit entry of `audit_kind` (who, what, which fields). A change of a field in
    `audited_fields` is its own entry, with the old and the new value (a dish's price)."""

    audit_kind: str = AuditEntry.Kind.MENU
    audited_fields: dict[str, str] = {}

    def _audit(self, request: HttpRequest, obj: Model, action: str, fields: Any = None) -> None:
        audit_record(
            kind=self.audit_kind,
            user=request.user,
            subject=str(obj)[:200],
            detail={
                "model": obj._meta.label,
                "id": obj.pk,
                "action": action,
                "fields": fields or [],
            },
        )

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, obj, "added")
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        changed = [name for entry in message for name in entry.get("changed", {}).get("fields", [])]
        self._audit(request, obj, "changed", [str(name) for name in changed])
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self._audit(request, obj, "deleted")
        return super().log_deletions(request, queryset)

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        obj = super().save_form(request, form, change)
        if change:
            for field, kind in self.audited_fields.items():
                if field in form.changed_data:
                    audit_record(
                        kind=kind,
                        user=request.user,
                        subject=str(obj)[:200],
                        detail={
                            "model": obj._meta.label,
                            "id": obj.pk,
                            "field": field,
                            "from": str(form.initial.get(field, "")),
                            "to": str(form.cleaned_data.get(field, "")),
                        },
                    )
        return obj
