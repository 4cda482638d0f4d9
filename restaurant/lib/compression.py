"""gzip for text only.

Django's GZipMiddleware compresses every answer whatever its type. Photos (JPEG, WebP, PNG) and
other media are compressed already: gzip gains nothing on them, costs the server CPU on every
photo of every menu, and takes away their length (no Content-Length, no range requests). SVG is
text and is compressed.
"""

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

COMPRESSED_ALREADY = ("image/", "video/", "audio/", "font/woff", "application/zip")


class GZipText(GZipMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        content_type = response.get("Content-Type", "")
        if content_type.startswith(COMPRESSED_ALREADY) and "svg" not in content_type:
            return response
        return super().process_response(request, response)
