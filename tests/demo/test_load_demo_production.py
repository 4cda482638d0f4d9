"""`load_demo` on a real site (DEBUG off): refused unless asked for by name, and then no login
with a published password: each new staff account gets a random one, printed once."""

import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from demo import data
from menu.models import Dish
from orders.models import Area
from payments.coupons.models import Coupon, CouponCode
from payments.members.models import Member
from payments.models import LedgerEntry

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def production(settings, tmp_path):
    settings.DEBUG = False
    settings.MEDIA_ROOT = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_it_refuses_without_the_flag_and_changes_nothing(production):
    with pytest.raises(CommandError, match="--allow-production"):
        run()
    with pytest.raises(CommandError, match="--allow-production"):
        run("--if-empty")
    assert not Dish.objects.exists() and not User.objects.exists()


def test_with_the_flag_staff_get_random_passwords_printed_once(production):
    output = run("--allow-production")
    printed = dict(re.findall(r"^    (\w+) / (\S+)$", output, re.M))
    assert set(printed) == {username for username, *_ in data.STAFF}
    for username, demo_password, *_ in data.STAFF:
        user = User.objects.get(username=username)
        assert not user.check_password(demo_password)
        assert len(printed[username]) >= 16 and user.check_password(printed[username])
        answer = Client().post(
            "/accounts/login/", {"username": username, "password": printed[username]}
        )
        assert answer.status_code == 302
    assert len(set(printed.values())) == len(printed)

    again = run("--allow-production")
    assert "shown only now" not in again and not re.search(r"^    \w+ / ", again, re.M)
    info = StringIO()
    call_command("demo_info", stdout=info)
    assert all(password not in info.getvalue() for password in printed.values())
    assert "diancan-manager" not in info.getvalue()


def test_on_a_real_site_it_makes_no_members_and_no_coupon_codes(production):
    run("--allow-production")
    # Nothing that carries money or a published PIN: no members, no top-ups, no codes.
    assert not Member.objects.exists() and not LedgerEntry.objects.exists()
    assert not CouponCode.objects.exists()
    # The settings come as the menu does, for the manager to change or switch off.
    assert Area.objects.count() == 2 and Coupon.objects.count() == len(data.COUPONS)
