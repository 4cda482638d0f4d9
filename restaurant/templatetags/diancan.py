from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from restaurant.lib.money import yuan as format_yuan
from restaurant.lib.realtime import stamp
from restaurant.lib.roles import CASHIER, KITCHEN, MANAGER, has_role
from restaurant.lib.static_text import static_text

register = template.Library()


@register.filter
def yuan(value):
    if value is None or value == "":
        return ""
    return format_yuan(value)


@register.filter
def local(obj, field):
    """`{{ dish|local:"description" }}`: the English text on English pages when there is one."""
    return obj.local(field)


@register.filter
def local_line(line, field="name"):
    """A settlement line's `name` or `options` in the page's language: the English copy taken
    when it was ordered, when the page is in English and there is one."""
    if (get_language() or "").startswith("en") and line.get(f"{field}_en"):
        return line[f"{field}_en"]
    return line[field]


@register.filter
def urges(lines):
    """How often the dishes still being made were hurried: the kitchen screen beeps when it grows."""
    return sum(line.urge_count for line in lines if line.can_urge)


# The staff screens, each with the roles that may open it (a manager may open every one).
STAFF_SCREENS = [
    ("orders:kitchen", _("Kitchen"), (KITCHEN,)),
    ("orders:pass", _("Pass"), (KITCHEN,)),
    ("orders:kitchen-stock", _("Sold out (估清)"), (KITCHEN,)),
    ("orders:staff-tables", _("Order for a table"), (KITCHEN, CASHIER)),
    ("payments:cashier", _("Cashier"), (CASHIER,)),
    ("payments:members", _("Members"), (CASHIER,)),
    ("payments:shift", _("Shift (交班)"), (CASHIER,)),
    ("payments:day", _("Day close (日结)"), (MANAGER,)),
    ("payments:audit", _("Audit"), (MANAGER,)),
    ("printing:queue", _("Printers"), (KITCHEN, CASHIER)),
    ("payments:reports-today", _("Reports"), (MANAGER,)),
    ("admin:index", _("Admin"), (MANAGER,)),
]


@register.inclusion_tag("staff_nav.html", takes_context=True)
def staff_nav(context):
    """One navigation for every staff screen: the screens this user's role may open."""
    request = context["request"]
    links: list[dict[str, Any]] = [
        {"url": reverse(name), "label": label}
        for name, label, roles in STAFF_SCREENS
        if has_role(request.user, *roles)
    ]
    # The current screen is the link whose address is the longest start of this one.
    here = max(
        (link for link in links if request.path.startswith(link["url"])),
        key=lambda link: len(link["url"]),
        default=None,
    )
    for link in links:
        link["current"] = link is here
    return {"links": links}


@register.simple_tag
def live_seq(*parts):
    """`{% live_seq "tab" tab.pk %}`: the stamp of a stream the page's socket follows (here
    `tab.12`), at 0, so that the socket's first stamp has an element to replace (htmx logs
    `oobErrorNoTarget` otherwise). One per stream of the socket (restaurant/lib/realtime.py)."""
    return stamp(".".join(str(part) for part in parts), 0)


@register.simple_tag
def inline_static(path):
    """A static file's text, to put in the page itself (`<style>` with the CSP nonce): one round
    trip fewer before the first paint. Our own file (no `</style>` in it)."""
    return mark_safe(static_text(path))  # noqa: S308 (our own stylesheet, not user input)
