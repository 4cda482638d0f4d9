from django import template
from django.utils.translation import get_language

from restaurant.lib.money import yuan as format_yuan

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
    return sum(line.urge_count for line in lines if line.status in ("queued", "cooking"))
