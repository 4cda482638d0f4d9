"""Model fields every app declares the same way: who did it, and a link that may be empty.

They build plain `ForeignKey`s with the same arguments each app used to spell out, so the
migrations see no change."""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def optional_link(
    to: Any,
    verbose_name: Any,
    *,
    on_delete: Any = models.PROTECT,
    related_name: str = "+",
) -> "models.ForeignKey[Any, Any]":
    """A link that may be empty (NULL), protected by default: what it points at stays while
    the row needs it (a ledger entry's payment, a statement line's top-up)."""
    return models.ForeignKey(
        to,
        null=True,
        blank=True,
        on_delete=on_delete,
        related_name=related_name,
        verbose_name=verbose_name,
    )


STAFF_MEMBER = _("staff member")


def staff_member(verbose_name: Any = STAFF_MEMBER) -> "models.ForeignKey[Any, Any]":
    """Who did it, when staff did: empty for a diner, a device or the worker; a staff account
    removed later leaves the record and empties the link."""
    return optional_link(settings.AUTH_USER_MODEL, verbose_name, on_delete=models.SET_NULL)
