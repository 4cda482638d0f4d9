from django import template
from django.utils.translation import gettext_lazy as _

from printing import selectors

register = template.Library()

ERRORS = {
    "unreachable": _("cannot be reached: off, unplugged or a wrong address"),
    "no_answer": _("does not answer"),
    "bad_answer": _("answers oddly: is it an ESC/POS printer?"),
    "offline": _("offline: cover open or paper out"),
    "paper_out": _("out of paper"),
}


@register.filter
def printer_error(text):
    """A printer's last error (`code detail`) in words."""
    code = (text or "").split(" ", 1)[0]
    return ERRORS.get(code, text)


@register.simple_tag
def till_printer_exists():
    return selectors.till_printer_exists()
