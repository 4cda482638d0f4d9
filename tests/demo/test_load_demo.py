"""The demo restaurant: `load_demo` fills an empty restaurant once, adds only what is missing when
run again, and `demo_info` tells people where to point their phones.

Drawing 50-odd photos takes seconds, so the demo is loaded once for this module (into the test
database, with MEDIA_ROOT in a temporary folder) and removed again at the end; every test runs in
its own transaction on top of it, so what a test changes is rolled back.
"""

from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, override_settings
from PIL import Image

from demo import data as demo
from menu.models import Category, Dish, MenuState, Option, OptionGroup, Station, Tag
from orders import services as order_services
from orders.models import Area, Table
from orders.settlement import build_settlement
from payments.coupons import services as coupon_services
from payments.coupons.models import Batch, Coupon, CouponCode
from payments.members import services as member_services
from payments.members.models import BonusRule, Level, Member, Move, TopUp
from payments.members.selectors import owed_to_members
from payments.models import LedgerEntry
from restaurant.lib.roles import has_role

USERNAMES = [username for username, *_ in demo.STAFF]


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_media(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


def _last_ids():
    """{table: the highest id in it} of every table with an integer id, and {table: its keys}
    of every other table (a posting is keyed by its ledger entry, a charge by its number)."""
    last = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        if meta.pk.get_internal_type() not in ("AutoField", "BigAutoField", "SmallAutoField"):
            last[(meta.db_table, meta.pk.column)] = set(model.objects.values_list("pk", flat=True))
            continue
        found = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        last[(meta.db_table, meta.pk.column)] = found or 0
    return last


def _remove_rows_since(last):
    """Every row made since `last`, in every table. The demo's members top up, so the load
    writes the ledger, which refuses DELETE (payments/0004): in this one transaction the
    triggers are off, as for pytest-django's flush (tests/conftest.py), and only here."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        for (table, column), highest in last.items():
            quote = connection.ops.quote_name
            if not isinstance(highest, set):
                cursor.execute(f"DELETE FROM {quote(table)} WHERE {quote(column)} > %s", [highest])
                continue
            kept = list(highest)
            keep = (
                f" WHERE {quote(column)} NOT IN ({', '.join(['%s'] * len(kept))})" if kept else ""
            )
            cursor.execute(f"DELETE FROM {quote(table)}{keep}", kept)


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, demo_media):
    """The output of `load_demo --if-empty` on an empty restaurant, the way `make run` calls it."""
    fast_hashing = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(DEBUG=True, MEDIA_ROOT=demo_media, PASSWORD_HASHERS=fast_hashing):
        with django_db_blocker.unblock():
            assert not Dish.objects.exists(), "the test database should start without a menu"
            before = _last_ids()
            output = run("load_demo", "--if-empty")
        yield output
        with django_db_blocker.unblock():
            _remove_rows_since(before)
            MenuState.objects.all().delete()


@pytest.fixture
def demo_db(loaded, db, settings):
    settings.DEBUG = True  # the demo as `make run` loads it (DEBUG off: test_load_demo_production)
    return loaded


def snapshot():
    """Every row the demo touches, field by field."""
    models = [Station, Category, Tag, Dish, Dish.tags.through, OptionGroup, Option, Table, Area]
    models += [Level, BonusRule, Coupon, Batch, CouponCode, Member, TopUp, Move, LedgerEntry]
    rows = {model.__name__: list(model.objects.order_by("pk").values()) for model in models}
    users = User.objects.filter(username__in=USERNAMES).order_by("pk")
    rows["users"] = list(users.values())
    rows["groups"] = list(
        User.groups.through.objects.filter(user__in=users).order_by("pk").values()
    )
    rows["permissions"] = list(
        User.user_permissions.through.objects.filter(user__in=users).order_by("pk").values()
    )
    return rows


def test_it_fills_an_empty_restaurant(demo_db):
    assert "52 dishes" in demo_db
    assert "photos drawn: 52" in demo_db


def test_the_menu_has_categories_and_dishes_in_chinese_and_english(demo_db):
    categories = Category.objects.all()
    assert categories.count() >= 8
    assert {"凉菜", "热菜", "汤羹", "主食", "小吃", "饮品", "酒水", "甜品"} <= {
        c.name for c in categories
    }
    assert all(c.name_en for c in categories)
    dishes = Dish.objects.all()
    assert dishes.count() >= 40
    for dish in dishes:
        assert dish.name_en and dish.description and dish.description_en, dish.name
        assert not dish.name.isascii(), dish.name
        assert dish.price > 0
    assert Dish.objects.get(name="宫保鸡丁").price == Decimal("38.00")


def test_every_dish_is_made_at_a_kitchen_station_with_an_ascii_slug(demo_db):
    assert set(Station.objects.values_list("slug", flat=True)) == {"hot", "cold", "noodles", "bar"}
    assert not Dish.objects.filter(station=None).exists()
    assert Dish.objects.get(name="青岛啤酒").station.slug == "bar"
    assert Dish.objects.get(name="拍黄瓜").station.slug == "cold"


def test_dishes_carry_tags_from_a_small_set(demo_db):
    assert {(t.name, t.name_en) for t in Tag.objects.all()} == {
        ("辣", "Spicy"),
        ("素", "Vegetarian"),
        ("招牌", "Signature"),
        ("新品", "New"),
    }
    assert set(Dish.objects.get(name="宫保鸡丁").tags.values_list("name", flat=True)) == {
        "辣",
        "招牌",
    }
    for name in ("辣", "素", "招牌", "新品"):
        assert Dish.objects.filter(tags__name=name).count() >= 3, name


def test_exactly_one_dish_is_sold_out_and_some_are_counted(demo_db):
    assert Dish.objects.filter(sold_out=True).count() == 1
    assert Dish.objects.get(name="清蒸鲈鱼").stock == 8
    assert Dish.objects.get(name="北京烤鸭").stock == 5
    assert Dish.objects.filter(stock__isnull=False).count() >= 3
    assert Dish.objects.filter(stock__isnull=True, sold_out=False).count() >= 30


def test_there_are_twelve_tables_in_two_areas(demo_db):
    tables = list(Table.objects.all())
    assert [t.code for t in tables] == [f"A{n}" for n in range(1, 9)] + [
        f"B{n}" for n in range(1, 5)
    ]
    assert {t.area for t in tables} == {"大厅", "包间"}
    assert Table.objects.get(code="A1").name == "大厅 A1"
    assert Table.objects.get(code="B4").display_name == "包间 B4"
    assert all(t.active and t.seats >= 2 for t in tables)
    assert len({t.token for t in tables}) == 12


def test_every_dish_has_a_photo_and_a_smaller_thumbnail_in_storage(demo_db, demo_media):
    for dish in Dish.objects.all():
        assert dish.photo and dish.thumbnail, dish.name
        photo, thumbnail = demo_media / dish.photo.name, demo_media / dish.thumbnail.name
        assert photo.is_file() and thumbnail.is_file(), dish.name
        assert thumbnail.stat().st_size < photo.stat().st_size
        with Image.open(photo) as big, Image.open(thumbnail) as small:
            assert (big.format, big.size) == ("JPEG", (1200, 900))
            assert small.format == "JPEG"
            assert small.width < big.width and small.height < big.height


def test_the_same_dish_is_always_drawn_the_same_way():
    name, art = "宫保鸡丁", ("plate", "chunks", "#c47a3a #e6c07e #a8251c")
    assert demo.draw_photo(name, art) == demo.draw_photo(name, art)
    assert demo.draw_photo(name, art) != demo.draw_photo("回锅肉", art)


def test_option_groups_are_valid_and_some_options_cost_extra(demo_db):
    groups = OptionGroup.objects.prefetch_related("options")
    assert groups.count() >= 20
    for group in groups:
        options = list(group.options.all())
        assert group.name_en and all(o.name_en for o in options), group
        assert 1 <= group.max_choices <= len(options), group
        assert group.min_choices <= group.max_choices, group
        assert all(o.price >= 0 for o in options)

    spice = OptionGroup.objects.get(dish__name="宫保鸡丁", name="辣度")
    assert (spice.min_choices, spice.max_choices) == (1, 1)
    assert [o.name for o in spice.options.all()] == ["不辣", "微辣", "中辣", "特辣"]

    size = OptionGroup.objects.get(dish__name="宫保鸡丁", name="份量")
    assert size.required and size.single
    assert {o.name: o.price for o in size.options.all()} == {
        "小份": Decimal("0"),
        "大份": Decimal("12"),
    }

    extras = OptionGroup.objects.get(dish__name="宫保鸡丁", name="加料")
    assert (extras.min_choices, extras.max_choices) == (0, 3)
    assert all(o.price > 0 for o in extras.options.all())

    drinks = OptionGroup.objects.filter(name="温度", dish__category__name="饮品")
    assert drinks.exists()
    assert Option.objects.filter(group__in=drinks, name="冰").exists()
    assert Option.objects.filter(price__gt=0).count() >= 20


def test_the_staff_log_in_and_have_their_roles(demo_db, client):
    for username, password, role, *_ in demo.STAFF:
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        login = client.post("/accounts/login/", {"username": username, "password": password})
        assert login.status_code == 302, username
        client.logout()

    kitchen, cashier, manager = (User.objects.get(username=name) for name in USERNAMES)
    assert has_role(kitchen, "kitchen") and not has_role(kitchen, "cashier")
    assert has_role(cashier, "cashier") and not has_role(cashier, "kitchen")
    assert not kitchen.is_staff and not cashier.is_staff
    assert manager.is_staff and not manager.is_superuser


def test_the_manager_can_edit_the_menu_and_the_staff_in_the_admin_but_not_the_groups(
    demo_db, client
):
    manager = User.objects.get(username="manager")
    assert manager.has_perm("menu.change_dish") and manager.has_perm("orders.change_table")
    assert not manager.has_perm("auth.change_user")
    app_labels = ("menu", "orders", "payments")
    assert (
        manager.user_permissions.count()
        == Permission.objects.filter(content_type__app_label__in=app_labels).count()
    )

    client.post("/accounts/login/", {"username": "manager", "password": "diancan-manager"})
    page = client.get("/admin/menu/dish/?q=宫保")
    assert page.status_code == 200
    assert "宫保鸡丁" in page.content.decode()
    # Staff accounts through the manager's own rules (tests/test_manager_admin.py), groups never.
    assert client.get("/admin/auth/user/").status_code == 200
    assert client.get("/admin/auth/group/").status_code == 403


def test_it_can_run_twice_without_duplicates(demo_db):
    before, version = snapshot(), MenuState.current()

    output = run("load_demo")

    assert "created: nothing" in output and "photos drawn: 0" in output
    assert snapshot() == before  # same rows, same values: table tokens unchanged
    assert MenuState.current() == version  # nothing was saved, so cached menus stay valid


def test_it_adds_what_is_missing_and_keeps_what_the_manager_changed(demo_db):
    Dish.objects.filter(name="宫保鸡丁").update(price=Decimal("42.00"))
    Option.objects.filter(group__dish__name="宫保鸡丁", name="特辣").delete()
    Table.objects.filter(code="B4").delete()
    tokens = dict(Table.objects.values_list("code", "token"))

    output = run("load_demo")

    assert "created: 1 options, 1 tables" in output
    assert Dish.objects.get(name="宫保鸡丁").price == Decimal("42.00")
    assert Option.objects.filter(group__dish__name="宫保鸡丁", name="特辣").count() == 1
    assert Table.objects.filter(code="B4").count() == 1
    assert dict(Table.objects.exclude(code="B4").values_list("code", "token")) == tokens
    assert Dish.objects.count() == sum(len(c["dishes"]) for c in demo.CATEGORIES)


def test_a_dish_whose_photo_is_gone_gets_a_new_one(demo_db, demo_media):
    Dish.objects.filter(name="拍黄瓜").update(photo="", thumbnail="")
    Dish.objects.filter(name="口水鸡").update(photo="dishes/gone.jpg")

    output = run("load_demo")

    assert "photos drawn: 2" in output
    for name in ("拍黄瓜", "口水鸡"):
        dish = Dish.objects.get(name=name)
        assert (demo_media / dish.photo.name).is_file()
        assert (demo_media / dish.thumbnail.name).is_file()


def test_if_empty_does_nothing_when_the_menu_has_a_dish(demo_db):
    Table.objects.filter(code="B4").delete()
    before = snapshot()

    output = run("load_demo", "--if-empty")

    assert "not loaded" in output
    assert snapshot() == before
    assert not Table.objects.filter(code="B4").exists()


def test_demo_info_prints_every_table_link_and_the_logins(demo_db, settings):
    settings.PUBLIC_URL = "https://diancan.example"

    lines = run("demo_info").splitlines()

    for table in Table.objects.all():
        url = f"https://diancan.example/t/{table.token}/"
        assert any(line.split() == [table.code, table.area, url] for line in lines), table.code
    text = "\n".join(lines)
    assert "https://diancan.example/kitchen/" in text
    assert "https://diancan.example/admin/" in text
    for username, password, *_ in demo.STAFF:
        assert any(username in line and password in line for line in lines), username
    assert "password changed" not in text


def test_demo_info_says_when_a_demo_password_was_changed(demo_db):
    cashier = User.objects.get(username="cashier")
    cashier.set_password("a-new-secret")
    cashier.save()

    lines = run("demo_info").splitlines()

    changed = [line for line in lines if "password changed" in line]
    assert len(changed) == 1 and " cashier " in changed[0]
    assert "diancan-cashier" not in "\n".join(lines)


# Issue 9: price rules, members and coupons ---------------------------------------------------


def test_areas_charge_per_guest_and_private_rooms_have_a_minimum_spend(demo_db):
    assert {(a.name, a.seat_charge, a.seat_charge_name) for a in Area.objects.all()} == {
        ("大厅", Decimal("2.00"), "茶位费"),
        ("包间", Decimal("5.00"), "餐位费"),
    }
    assert {t.code: t.minimum_spend for t in Table.objects.filter(area="包间")} == {
        "B1": Decimal("300.00"),
        "B2": Decimal("300.00"),
        "B3": Decimal("500.00"),
        "B4": Decimal("800.00"),
    }
    assert not Table.objects.filter(area="大厅", minimum_spend__gt=0).exists()


def test_a_bill_in_a_private_room_shows_its_charge_and_shortfall(demo_db):
    room = Table.objects.get(code="B1")
    tab = order_services.tab_for_table(table=room)
    chicken = Dish.objects.get(name="糖醋里脊")  # 42, no required choice
    order_services.order_submit(
        tab=tab, key="demo", guests=4, lines=[order_services.LineRequest(dish=chicken.pk)]
    )
    settlement = build_settlement(tab.pk)
    rows = {row["kind"]: row for row in settlement["adjustments"]}
    assert (rows["seat_charge"]["reason"], rows["seat_charge"]["amount"]) == ("餐位费", "20.00")
    assert rows["minimum_spend"]["amount"] == "258.00"  # 300 less the 42 of dishes
    assert settlement["total"] == "320.00"


def test_signature_dishes_have_a_member_price_below_their_price(demo_db):
    priced = {d.name: d for d in Dish.objects.filter(member_price__isnull=False)}
    assert set(priced) == set(demo.MEMBER_PRICES)
    assert all(d.member_price < d.price for d in priced.values())
    assert priced["宫保鸡丁"].member_price == Decimal("32.00")


def test_levels_with_their_discounts_and_the_bonus_rules(demo_db):
    levels = {level.name: level.discount_rate for level in Level.objects.all()}
    assert levels == {
        "普通会员": Decimal("1.000"),
        "银卡会员": Decimal("0.950"),
        "金卡会员": Decimal("0.900"),
    }
    assert Level.objects.get(is_default=True).name == "普通会员"
    assert [(r.threshold, r.bonus) for r in BonusRule.objects.all()] == [
        (Decimal("200.00"), Decimal("30.00")),
        (Decimal("500.00"), Decimal("100.00")),
    ]


def test_coupons_of_each_kind_and_a_batch_of_codes_to_print(demo_db):
    assert set(Coupon.objects.values_list("type", flat=True)) == {
        "threshold",
        "percent",
        "voucher",
        "free_dish",
    }
    for coupon in Coupon.objects.all():
        coupon.full_clean()
    free = Coupon.objects.get(type="free_dish")
    assert list(free.dishes.values_list("name", flat=True)) == ["酸梅汤"]
    batch = Batch.objects.get(note=demo.BATCH["note"])
    assert batch.codes.filter(status="issued").count() == batch.quantity == 20
    manager = User.objects.get(username="manager")
    client = Client()
    client.force_login(manager)
    sheet = client.get(f"/admin/coupons/batch/{batch.pk}/sheet/")
    assert sheet.status_code == 200
    assert sheet.content.decode().count('class="card"') == 20


def test_members_have_balances_from_top_ups_with_their_bonus_and_the_books_agree(demo_db):
    wang = Member.objects.get(mobile="13800138001")
    assert (wang.name, wang.level.name, wang.principal, wang.bonus, wang.points) == (
        "王芳",
        "金卡会员",
        Decimal("500.00"),
        Decimal("100.00"),  # 充 500 送 100
        1200,
    )
    li = Member.objects.get(mobile="13800138002")
    assert (li.principal, li.bonus) == (Decimal("200.00"), Decimal("30.00"))  # 充 200 送 30
    assert not Member.objects.get(mobile="13800138003").pin
    assert {c.coupon.name for c in wang.coupons.all()} == {"8.8折券", "10元代金券"}
    # Money owed to members in the ledger is the sum of the balances.
    balances = sum((m.balance for m in Member.objects.all()), start=Decimal(0))
    assert owed_to_members() == balances == Decimal("830.00")
    assert set(TopUp.objects.values_list("method", flat=True)) == {"card"}


def test_a_demo_member_pays_by_balance_with_the_demo_pin_and_uses_a_coupon(demo_db):
    table = Table.objects.get(code="A1")
    tab = order_services.tab_for_table(table=table)
    duck = Dish.objects.get(name="糖醋里脊")
    order_services.order_submit(
        tab=tab, key="demo", guests=2, lines=[order_services.LineRequest(dish=duck.pk, quantity=3)]
    )
    auth = member_services.MemberAuth(login="13800138001", pin=demo.MEMBER_PIN)
    member_services.tab_member_identify(tab_id=tab.pk, auth=auth)
    code = Batch.objects.get(note=demo.BATCH["note"]).codes.first().code
    coupon_services.coupon_redeem(code=code, tab_id=tab.pk)
    settlement = build_settlement(tab.pk)
    kinds = [row["kind"] for row in settlement["adjustments"]]
    assert kinds == ["member_price", "coupon", "seat_charge"]
    # 126 at 九折 113.40, less 20, plus 茶位费 2 × 2
    assert settlement["total"] == "97.40"


def test_it_says_what_it_made_and_demo_info_shows_the_members_and_the_coupon_sheet(demo_db):
    assert "2 table areas, 2 bonus rules, 5 coupons, 1 coupon batches, 3 members" in demo_db

    text = run("demo_info")

    batch = Batch.objects.get(note=demo.BATCH["note"])
    assert f"/admin/coupons/batch/{batch.pk}/sheet/" in text
    assert "/cashier/members/" in text and demo.MEMBER_PIN in text
    wang = next(line for line in text.splitlines() if "13800138001" in line)
    assert "王芳" in wang and "¥600.00" in wang and "1200" in wang
