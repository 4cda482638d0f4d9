"""QR codes as SVG markup to inline in a page or serve: a table's diner URL, a coupon's code."""

from typing import Any

import qrcode
from qrcode.constants import ERROR_CORRECT_Q
from qrcode.image.svg import SvgPathImage

# Printed cards get splashed and scratched: level Q still reads with a quarter of it damaged.
ERROR_CORRECTION = ERROR_CORRECT_Q
# The quiet zone the QR standard asks for, in modules.
BORDER = 4


def make_qr(data: str) -> qrcode.QRCode:
    """The QR code of `data`, built with the settings every printed card uses."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=BORDER, image_factory=SvgPathImage)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def qr_svg(data: str) -> str:
    """`<svg …>…</svg>` of `data`, without an XML declaration so it can be inlined."""
    image = make_qr(data).make_image()
    # The library names every path "qr-path"; a sheet holds many codes and ids must be unique.
    image.path.attrib.pop("id", None)
    return image.to_string(encoding="unicode")


def table_qr_svg(table: Any) -> str:
    """The QR code of `table.diner_url`."""
    return qr_svg(table.diner_url)
