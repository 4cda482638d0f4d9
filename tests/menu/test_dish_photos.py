"""A dish photo is stored as a real upload with a phone-sized thumbnail that follows the photo."""

from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from django.views.static import serve
from PIL import Image

from restaurant.lib.compression import GZipText

pytestmark = pytest.mark.django_db


def jpeg(colour, size=(1200, 900)):
    out = BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return ContentFile(out.getvalue())


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_a_photo_gets_a_small_thumbnail(menu):
    dish = menu["cucumber"]
    dish.photo.save("cucumber.jpg", jpeg("green"))
    dish.refresh_from_db()
    with Image.open(dish.thumbnail.path) as thumb:
        assert thumb.size == (480, 360)
    assert dish.thumbnail.size < dish.photo.size


def test_a_replaced_photo_gets_a_new_thumbnail(menu):
    dish = menu["cucumber"]
    dish.photo.save("green.jpg", jpeg("green"))
    first = dish.thumbnail.name
    dish.photo.save("red.jpg", jpeg("red"))
    dish.refresh_from_db()
    assert dish.thumbnail.name != first
    with Image.open(dish.thumbnail.path) as thumb:
        red, green, _blue = thumb.convert("RGB").getpixel((10, 10))
    assert red > 200 and green < 50


def test_saving_without_a_new_photo_keeps_the_thumbnail(menu):
    dish = menu["cucumber"]
    dish.photo.save("green.jpg", jpeg("green"))
    thumb = dish.thumbnail.name
    dish.price = 13
    dish.save()
    assert dish.thumbnail.name == thumb


def test_a_photo_gets_webp_copies_sized_for_phones(menu):
    dish = menu["cucumber"]
    dish.photo.save("cucumber.jpg", jpeg("green"))
    dish.refresh_from_db()
    srcset = dish.thumbnail_srcset()
    assert srcset.endswith("480w") and "240w" in srcset and "360w" in srcset
    for part in srcset.split(", "):
        url, width = part.split()
        path = dish.thumbnail.storage.path(url.removeprefix("/media/"))
        with Image.open(path) as copy:
            assert copy.format == "WEBP" and copy.size == (
                int(width[:-1]),
                int(width[:-1]) * 3 // 4,
            )


def test_photos_are_served_as_they_are_and_pages_gzipped(menu, client, table, rf, settings):
    """A photo is compressed already: gzip would cost CPU and hide its length for nothing.
    (Through the settings' middleware class and Django's own media view.)"""
    dish = menu["cucumber"]
    dish.photo.save("cucumber.jpg", jpeg("green"))
    dish.refresh_from_db()
    webp = dish.thumbnail_srcset().split(", ")[-1].split()[0]
    assert "restaurant.lib.compression.GZipText" in settings.MIDDLEWARE
    for url in (webp, dish.thumbnail.url):
        path = url.removeprefix("/media/")
        serve_photo = GZipText(lambda request, path=path: serve(request, path, settings.MEDIA_ROOT))
        answer = serve_photo(rf.get(url, HTTP_ACCEPT_ENCODING="gzip"))
        assert answer.status_code == 200
        assert answer["Content-Type"] in ("image/webp", "image/jpeg")
        assert not answer.has_header("Content-Encoding")
        assert int(answer["Content-Length"]) == len(b"".join(answer.streaming_content))
    page = client.get(table.diner_path, HTTP_ACCEPT_ENCODING="gzip")
    assert page["Content-Encoding"] == "gzip"
