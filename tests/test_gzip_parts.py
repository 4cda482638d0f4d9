"""gzip around parts of a page compressed once (restaurant/lib/compression.py): the answer
unzips to exactly its content, is as small as compressing all of it, and is left plain for a
client that does not take gzip."""

import gzip
import re
import subprocess
import zlib

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory

from restaurant.lib.compression import GZipText, deflate, keep_deflated

MENU = "".join(f"<article id='dish-{n}'><h3>菜{n}</h3><p>¥{n}8</p></article>\n" for n in range(400))
STYLE = "".join(f".c{n} {{ margin: {n}px; color: #{n:03}; }}\n" for n in range(300))
PAGE = (
    f"<!doctype html><style nonce='x1'>{STYLE}</style><p>csrf-abc</p><main>{MENU}</main><p>end</p>"
)


def answer(content, *parts, accept="gzip, deflate, br"):
    response = keep_deflated(HttpResponse(content), *parts)
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING=accept)
    return GZipText(lambda request: response).process_response(request, response)


def test_an_answer_with_parts_deflated_once_unzips_to_its_content():
    response = answer(PAGE, deflate(STYLE), deflate(MENU))
    assert response["Content-Encoding"] == "gzip"
    assert response["Content-Length"] == str(len(response.content))
    assert "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(response.content) == PAGE.encode()
    # A reader that takes the stream in small pieces, as a browser does on a slow line.
    reader = zlib.decompressobj(16 + zlib.MAX_WBITS)
    content = b"".join(reader.decompress(response.content[n : n + 7]) for n in range(0, 99999, 7))
    assert content + reader.flush() == PAGE.encode() and reader.eof


def test_the_gzip_tool_reads_it(tmp_path):
    path = tmp_path / "page.html.gz"
    path.write_bytes(answer(PAGE, deflate(STYLE), deflate(MENU)).content)
    unzipped = subprocess.run(["gzip", "-dc", str(path)], capture_output=True, check=True)
    assert unzipped.stdout == PAGE.encode()


def test_it_is_as_small_as_compressing_the_whole_page():
    zipped = answer(PAGE, deflate(STYLE), deflate(MENU)).content
    whole = gzip.compress(PAGE.encode(), 6)
    assert len(zipped) <= len(whole) + 100  # + the header's random padding


def test_a_part_the_content_does_not_hold_is_compressed_with_the_rest():
    changed = PAGE.replace("菜7<", "菜七<")  # the menu in the page is not the one deflated
    response = answer(changed, deflate(STYLE), deflate(MENU), deflate("not in the page"))
    assert gzip.decompress(response.content) == changed.encode()


def test_a_client_that_takes_no_gzip_gets_the_page_plain():
    response = answer(PAGE, deflate(STYLE), deflate(MENU), accept="identity")
    assert response.content == PAGE.encode() and not response.has_header("Content-Encoding")
    assert "Accept-Encoding" in response["Vary"]


def test_the_header_is_padded_by_a_random_length_as_djangos():
    lengths = {len(answer(PAGE, deflate(MENU)).content) for _ in range(20)}
    assert len(lengths) > 5
    header = answer(PAGE, deflate(MENU)).content
    assert header[:4] == b"\x1f\x8b\x08" + bytes([gzip.FNAME])


@pytest.mark.django_db
def test_the_diner_page_unzips_to_the_page(table, menu):
    phone = Client()
    plain = phone.get(f"/t/{table.token}/").content.decode()
    zipped = phone.get(f"/t/{table.token}/", HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    page = gzip.decompress(zipped.content).decode()
    per_request = re.compile(r'(nonce="|csrfmiddlewaretoken" value="|"x-csrftoken": ")[^"]+')
    assert per_request.sub(r"\1…", page) == per_request.sub(r"\1…", plain)
    assert "宫保鸡丁" in page and "<style nonce=" in page
    # Each part starts blocks of its own: on this three-dish menu a few hundred bytes more than
    # compressing the page whole; on the demo's 52 dishes, less (README, Performance).
    assert len(zipped.content) <= len(gzip.compress(page.encode(), 6)) * 1.05 + 100
