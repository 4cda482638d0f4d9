"""Our own static files' text, for what a page carries inline (the diner page's stylesheet, in a
`<style>` with the CSP nonce) and for compressing it once (orders.views)."""

from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders


@cache
def _read(path: str) -> str:
    found = finders.find(path)
    if not isinstance(found, str):
        raise FileNotFoundError(f"no static file {path}")
    with open(found, encoding="utf-8") as file:
        return file.read()


def static_text(path: str) -> str:
    """A static file's text, read once per process (on each use with DEBUG, so edits show)."""
    return _read.__wrapped__(path) if settings.DEBUG else _read(path)
