"""GET /api/v1/menu, the OpenAPI document and the docs page."""

import re
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from menu.models import Category, Dish, Option, OptionGroup, Tag

pytestmark = pytest.mark.django_db

MENU_URL = "/api/v1/menu"


def get_menu(client):
    response = client.get(MENU_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def dishes_by_id(body):
    return {dish["id"]: dish for category in body["categories"] for dish in category["dishes"]}


def test_the_menu_has_categories_dishes_option_groups_and_options(client, menu):
    body = get_menu(client)

    assert list(body) == ["categories"]
    assert [c["name"] for c in body["categories"]] == ["凉菜", "热菜"]
    category = body["categories"][1]
    assert {"id", "name", "dishes"} <= set(category)
    assert [d["name"] for d in category["dishes"]] == ["宫保鸡丁", "清蒸鲈鱼"]

    chicken = dishes_by_id(body)[menu["chicken"].pk]
    assert {"id", "name", "price", "available", "stock", "option_groups"} <= set(chicken)
    assert chicken["name_en"] == "Kung Pao chicken"
    assert chicken["tags"] == ["辣"]
    assert chicken["photo"] is None
    heat, extras = chicken["option_groups"]
    assert heat == {
        "id": menu["heat"].pk,
        "name": "辣度",
        "name_en": "Spice",
        "required": True,
        "min": 1,
        "max": 1,
        "options": [
            {"id": menu["mild"].pk, "name": "微辣", "name_en": "Mild", "price": "0.00"},
            {"id": menu["hot"].pk, "name": "特辣", "name_en": "Hot", "price": "0.00"},
        ],
    }
    assert (extras["required"], extras["min"], extras["max"]) == (False, 0, 2)
    assert [o["price"] for o in extras["options"]] == ["3.00", "2.00"]


def test_prices_are_strings_with_two_decimals(client, menu):
    Dish.objects.filter(pk=menu["cucumber"].pk).update(price=Decimal("9.5"))
    Dish.objects.filter(pk=menu["fish"].pk).update(price=Decimal("1288"))

    dishes = dishes_by_id(get_menu(client))

    assert dishes[menu["cucumber"].pk]["price"] == "9.50"
    assert dishes[menu["chicken"].pk]["price"] == "38.00"
    assert dishes[menu["fish"].pk]["price"] == "1288.00"


def test_stock_is_null_when_unlimited_and_a_number_when_counted(client, menu):
    dishes = dishes_by_id(get_menu(client))

    assert dishes[menu["cucumber"].pk]["stock"] is None
    assert dishes[menu["cucumber"].pk]["available"] is True
    assert dishes[menu["fish"].pk]["stock"] == 5
    assert dishes[menu["fish"].pk]["available"] is True


def test_a_sold_out_dish_or_one_with_no_portions_left_is_not_available(client, menu):
    Dish.objects.filter(pk=menu["chicken"].pk).update(sold_out=True)
    Dish.objects.filter(pk=menu["fish"].pk).update(stock=0)

    dishes = dishes_by_id(get_menu(client))

    assert dishes[menu["chicken"].pk]["available"] is False
    assert dishes[menu["fish"].pk]["available"] is False
    assert dishes[menu["fish"].pk]["stock"] == 0
    assert dishes[menu["cucumber"].pk]["available"] is True


def test_dishes_off_the_menu_inactive_categories_and_inactive_options_are_left_out(client, menu):
    Dish.objects.filter(pk=menu["fish"].pk).update(active=False)
    Category.objects.filter(pk=menu["cucumber"].category_id).update(active=False)
    Option.objects.filter(pk=menu["rice"].pk).update(active=False)

    body = get_menu(client)

    assert [c["name"] for c in body["categories"]] == ["热菜"]
    assert list(dishes_by_id(body)) == [menu["chicken"].pk]
    extras = dishes_by_id(body)[menu["chicken"].pk]["option_groups"][1]
    assert [o["name"] for o in extras["options"]] == ["加花生"]


def test_a_dish_with_a_photo_gives_the_url_of_its_thumbnail(client, menu, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    image = BytesIO()
    Image.new("RGB", (800, 600), "red").save(image, "JPEG")
    cucumber = menu["cucumber"]
    cucumber.photo = SimpleUploadedFile("cucumber.jpg", image.getvalue(), content_type="image/jpeg")
    cucumber.save()

    photo = dishes_by_id(get_menu(client))[cucumber.pk]["photo"]

    assert photo == cucumber.thumbnail.url
    assert photo.startswith("/media/dishes/thumbs/") and photo.endswith(".jpg")


def add_dishes(count):
    category = Category.objects.create(name=f"加菜{count}", position=9)
    tag = Tag.objects.create(name=f"新{count}")
    for n in range(count):
        dish = Dish.objects.create(
            category=category, name=f"菜{count}-{n}", price=Decimal("10.00"), stock=n
        )
        dish.tags.add(tag)
        group = OptionGroup.objects.create(dish=dish, name="份量", min_choices=1, max_choices=1)
        Option.objects.create(group=group, name="小份")
        Option.objects.create(group=group, name="大份", price=Decimal("5.00"))


def count_menu_queries(client):
    with CaptureQueriesContext(connection) as queries:
        get_menu(client)
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_number_of_dishes(client, menu):
    add_dishes(3)
    with_few = count_menu_queries(client)
    add_dishes(30)
    with_many = count_menu_queries(client)

    assert len(dishes_by_id(get_menu(client))) == 3 + 3 + 30
    assert with_many == with_few
    assert with_few <= 6


def test_the_openapi_document_describes_the_paths_and_their_answers(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    assert set(paths) >= {
        "/api/v1/menu",
        "/api/v1/tables/{token}/orders",
        "/api/v1/tables/{token}/tab",
    }
    submit = paths["/api/v1/tables/{token}/orders"]["post"]
    assert set(submit["responses"]) >= {"200", "201", "400", "404", "409"}
    assert "requestBody" in submit
    schemas = document["components"]["schemas"]
    assert {"MenuOut", "DishOut", "OrderIn", "LineIn", "OrderOut", "LineOut", "TabAnswer"} <= set(
        schemas
    )
    assert {"Error", "InvalidError", "OutOfStockError"} <= set(schemas)
    assert schemas["LineOut"]["properties"]["unit_price"]["type"] == "string"
    assert "price" not in schemas["LineIn"]["properties"]


def test_the_docs_page_loads_its_scripts_from_our_own_static_files(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    page = response.content.decode()
    assert not re.search(r"https?://", page), "the docs page must not load anything from a CDN"
    scripts = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "/static/ninja/swagger-ui-bundle.js" in scripts
    assert "/static/ninja/swagger-ui.css" in scripts
    for url in scripts:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), (
                f"{url} is not among our static files"
            )
