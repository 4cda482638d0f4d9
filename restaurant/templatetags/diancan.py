from django import template

from restaurant.money import yuan as format_yuan

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
