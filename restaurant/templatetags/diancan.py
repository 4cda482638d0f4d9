from django import template

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
def urges(lines):
    """How often the dishes still being made were hurried: the kitchen screen beeps when it grows."""
    return sum(line.urge_count for line in lines if line.status in ("queued", "cooking"))
