"""gzip for text only, and parts of pages compressed once.

Django's GZipMiddleware compresses every answer whatever its type. Photos (JPEG, WebP, PNG) and
other media are compressed already: gzip gains nothing on them, costs the server CPU on every
photo of every menu, and takes away their length (no Content-Length, no range requests). SVG is
text and is compressed.

The diner page is 75 KB, of which the menu (55 KB) and the stylesheet (17 KB) are the same on
every request until the menu changes: compressing all of it again took 0.7 ms of CPU per page,
more than a fifth of what the page costs beyond `/ping`. A view can name such parts, deflated
once (`deflate`, `keep_deflated`); the answer is then one gzip stream in which only the text
around them is compressed on each request (0.27 ms), and the answer is no larger. A deflate
stream is a run of blocks: a part deflated on its own and ended with a full flush (no block
marked last, nothing referring to text before it) can stand between blocks of the request's own
compressor when that one is full-flushed just before it, as parallel gzip tools (pigz) join
their pieces. The header carries the same random-length padding as Django's, against
BREACH-style guessing.
"""

import re
import secrets
import struct
import zlib
from dataclasses import dataclass
from gzip import FNAME

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.gzip import GZipMiddleware
from django.utils.cache import patch_vary_headers

COMPRESSED_ALREADY = ("image/", "video/", "audio/", "font/woff", "application/zip")
ACCEPTS_GZIP = re.compile(r"\bgzip\b")
LEVEL = 6  # Django's
RAW_DEFLATE = -zlib.MAX_WBITS  # no zlib header or trailer: the blocks of a gzip stream
WINDOW = 1 << zlib.MAX_WBITS  # how far back deflate refers: 32 KB
PARTS = "deflated_parts"  # the attribute of a response naming its parts deflated already


@dataclass(frozen=True)
class Deflated:
    """A text's UTF-8 bytes and their deflate blocks, full-flushed and not final."""

    raw: bytes
    blocks: bytes


def deflate(text: str) -> Deflated:
    raw = text.encode()
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, RAW_DEFLATE)
    return Deflated(raw, compressor.compress(raw) + compressor.flush(zlib.Z_FULL_FLUSH))


def keep_deflated(response: HttpResponseBase, *parts: Deflated) -> HttpResponseBase:
    """Names parts of this answer's content (in the order they appear) compressed already. A
    part not found in the content (a template changed) is compressed with the rest."""
    setattr(response, PARTS, parts)  # noqa: B010 (HttpResponse declares no such field)
    return response


def gzip_around(content: bytes, parts: tuple[Deflated, ...], max_random_bytes: int) -> bytes:
    """The gzip of `content`, the given parts taken as deflated already."""
    name = b"a" * secrets.randbelow(max_random_bytes) + b"\x00"
    out = [struct.pack("<BBBBLBB", 0x1F, 0x8B, zlib.DEFLATED, FNAME, 0, 0, 255), name]
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, RAW_DEFLATE)
    at = 0
    for part in parts:
        start = content.find(part.raw, at)
        if start < 0:
            continue
        out += [compressor.compress(content[at:start]), compressor.flush(zlib.Z_FULL_FLUSH)]
        out.append(part.blocks)
        at = start + len(part.raw)
        # What follows may refer back to the window the reader holds by then (a raw stream's
        # preset dictionary is not written in it): as small as compressing the whole page.
        window = content[max(0, at - WINDOW) : at]
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, RAW_DEFLATE, zdict=window)
    out += [compressor.compress(content[at:]), compressor.flush()]
    out.append(struct.pack("<LL", zlib.crc32(content), len(content) & 0xFFFFFFFF))
    return b"".join(out)


class GZipText(GZipMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        content_type = response.get("Content-Type", "")
        if content_type.startswith(COMPRESSED_ALREADY) and "svg" not in content_type:
            return response
        parts = getattr(response, PARTS, ())
        if (
            not parts
            or not isinstance(response, HttpResponse)  # a streaming answer has no parts
            or response.has_header("Content-Encoding")
        ):
            return super().process_response(request, response)
        # As GZipMiddleware does, with the parts taken as compressed already.
        patch_vary_headers(response, ("Accept-Encoding",))
        if not ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return response
        response.content = gzip_around(response.content, parts, self.max_random_bytes)
        response.headers["Content-Length"] = str(len(response.content))
        etag = response.get("ETag")
        if etag and etag.startswith('"'):
            response.headers["ETag"] = "W/" + etag
        response.headers["Content-Encoding"] = "gzip"
        return response
