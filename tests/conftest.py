"""Shared fixtures: a small menu, a table, and a diner, a cook, a cashier, a manager and an
outsider. Tests run on whatever DATABASE_URL and REDIS_URL name (PostgreSQL and Redis in CI)."""

import os
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection

from menu.models import Category, Dish, Option, OptionGroup, Station, Tag
from orders.models import Table

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition, what):
    """Skip on a bare developer machine; in CI a missing real part is a failure, not a skip."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must run this test against {what}, which is not available.")
    pytest.skip(f"{what} is not available on this machine")


def _flush_with_triggers_off():
    """The ledger refuses TRUNCATE (payments/0005), and pytest-django empties the database after
    each transactional test with Django's flush, which is one TRUNCATE. The test database's user
    is a superuser: the flush's own transaction switches triggers off (SET LOCAL), and only
    there; every test still meets the triggers."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    plain = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = plain(self, style, tables, **kwargs)
        if statements:
            return ["SET LOCAL session_replication_role = replica", *statements]
        return statements

    DatabaseOperations.sql_flush = sql_flush


_flush_with_triggers_off()


@pytest.fixture
def needs_postgres():
    need(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL=postgres://…)")


@pytest.fixture
def needs_redis():
    need(bool(settings.REDIS_URL), "Redis (set REDIS_URL=redis://…)")


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    from orders.realtime import _tab_parts
    from orders.views import menu_html

    cache.clear()
    menu_html.cache_clear()  # the menus this process keeps beside Redis
    _tab_parts.clear()  # and the tabs' parts (a test database may number a tab again)
    yield


@pytest.fixture
def roles(db):
    return {
        name: Group.objects.get_or_create(name=name)[0]
        for name in ("kitchen", "cashier", "manager")
    }


def _staff(username, group=None):
    user = User.objects.create_user(username, password="pw-" + username)
    if group:
        user.groups.add(group)
    return user


@pytest.fixture
def cook(roles):
    return _staff("cook", roles["kitchen"])


@pytest.fixture
def cashier(roles):
    return _staff("cashier", roles["cashier"])


@pytest.fixture
def manager(roles):
    return _staff("manager", roles["manager"])


@pytest.fixture
def outsider(db):
    return _staff("outsider")


@pytest.fixture
def menu(db):
    """凉菜 and 热菜: a plain dish, a dish with a required spice level and extras, a counted dish."""
    hot = Station.objects.create(name="热菜", name_en="Hot", slug="hot", position=1)
    cold = Station.objects.create(name="凉菜", name_en="Cold", slug="cold", position=2)
    starters = Category.objects.create(name="凉菜", name_en="Cold dishes", position=1)
    mains = Category.objects.create(name="热菜", name_en="Hot dishes", position=2)
    spicy = Tag.objects.create(name="辣", name_en="Spicy")
    cucumber = Dish.objects.create(
        category=starters,
        name="拍黄瓜",
        name_en="Smashed cucumber",
        price=Decimal("12.00"),
        station=cold,
    )
    chicken = Dish.objects.create(
        category=mains,
        name="宫保鸡丁",
        name_en="Kung Pao chicken",
        price=Decimal("38.00"),
        station=hot,
    )
    chicken.tags.add(spicy)
    heat = OptionGroup.objects.create(
        dish=chicken, name="辣度", name_en="Spice", min_choices=1, max_choices=1
    )
    mild = Option.objects.create(group=heat, name="微辣", name_en="Mild", position=1)
    hot_option = Option.objects.create(group=heat, name="特辣", name_en="Hot", position=2)
    extras = OptionGroup.objects.create(
        dish=chicken, name="加料", name_en="Extras", min_choices=0, max_choices=2
    )
    peanuts = Option.objects.create(
        group=extras, name="加花生", name_en="Peanuts", price=Decimal("3.00")
    )
    rice = Option.objects.create(group=extras, name="加饭", name_en="Rice", price=Decimal("2.00"))
    fish = Dish.objects.create(
        category=mains,
        name="清蒸鲈鱼",
        name_en="Steamed bass",
        price=Decimal("88.00"),
        station=hot,
        stock=5,
    )
    return {
        "cucumber": cucumber,
        "chicken": chicken,
        "fish": fish,
        "mild": mild,
        "hot": hot_option,
        "peanuts": peanuts,
        "rice": rice,
        "heat": heat,
        "hot_station": hot,
        "cold_station": cold,
    }


@pytest.fixture
def table(db):
    return Table.objects.create(code="A1", area="大厅", seats=4)


@pytest.fixture
def other_table(db):
    return Table.objects.create(code="A2", area="大厅", seats=4)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """No connection pool in the test process: its test threads would keep pooled connections
    open and the test database could not be dropped at the end. The daphne processes that
    tests start (tests/live.py) still run with the pool, as in production."""
    from django.db import connections

    connections["default"].settings_dict["OPTIONS"].pop("pool", None)


@pytest.fixture(scope="session", autouse=True)
def _end_stray_sessions(django_db_setup, django_db_blocker):
    """Threads that ran ORM code for async tests keep their connections; end them on the
    server before pytest-django drops the test database, or PostgreSQL refuses to drop it."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
