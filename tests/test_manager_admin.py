"""A manager runs the restaurant's staff in the admin, short of superuser: kitchen and cashier
accounts (add, rename, set password and role, lock, remove) and device tokens, but never a
superuser, another manager, staff status or single permissions."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from restaurant.lib.devices import DeviceToken

pytestmark = pytest.mark.django_db

USERS = "/admin/auth/user/"


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser("boss", password="pw-boss")


@pytest.fixture
def other_manager(roles):
    user = User.objects.create_user("deputy", password="pw-deputy", is_staff=True)
    user.groups.add(roles["manager"])
    return user


@pytest.fixture
def admin_of(manager):
    manager.is_staff = True
    manager.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    return client


def test_the_manager_sees_the_kitchen_and_cashier_staff_but_no_superuser_or_manager(
    admin_of, cook, cashier, outsider, boss, other_manager
):
    page = admin_of.get(USERS)
    assert page.status_code == 200
    listed = set(page.context["cl"].queryset.values_list("username", flat=True))
    assert listed == {"cook", "cashier", "outsider"}
    for user in (boss, other_manager):
        assert admin_of.get(f"{USERS}{user.pk}/change/").status_code != 200
        assert admin_of.get(f"{USERS}{user.pk}/password/").status_code != 200


def test_the_manager_adds_a_cashier_who_can_log_in_as_a_cashier(admin_of, roles):
    answer = admin_of.post(
        f"{USERS}add/",
        {
            "username": "xiaowang",
            "password1": "a-long-Pass-phrase-42",
            "password2": "a-long-Pass-phrase-42",
            "usable_password": "true",
            "groups": [roles["cashier"].pk],
        },
    )
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    user = User.objects.get(username="xiaowang")
    assert list(user.groups.values_list("name", flat=True)) == ["cashier"]
    assert not user.is_staff and not user.is_superuser
    login = Client().post(
        "/accounts/login/", {"username": "xiaowang", "password": "a-long-Pass-phrase-42"}
    )
    assert login.status_code == 302


def test_the_manager_cannot_make_a_manager_or_a_superuser(admin_of, cook, roles):
    answer = admin_of.post(
        f"{USERS}{cook.pk}/change/",
        {
            "username": "cook",
            "first_name": "Lao",
            "last_name": "Zhang",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [roles["manager"].pk],
        },
    )
    assert answer.status_code == 200  # the form refuses the manager role
    assert "groups" in answer.context["adminform"].form.errors
    answer = admin_of.post(
        f"{USERS}{cook.pk}/change/",
        {
            "username": "cook",
            "first_name": "Lao",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [roles["kitchen"].pk],
        },
    )
    assert answer.status_code == 302
    cook.refresh_from_db()
    assert cook.first_name == "Lao"
    assert not cook.is_staff and not cook.is_superuser
    assert list(cook.groups.values_list("name", flat=True)) == ["kitchen"]


def test_the_manager_sets_a_cooks_password_and_locks_a_cashier(admin_of, cook, cashier):
    answer = admin_of.post(
        f"{USERS}{cook.pk}/password/",
        {"password1": "New-kitchen-pass-7", "password2": "New-kitchen-pass-7"},
    )
    assert answer.status_code == 302
    cook.refresh_from_db()
    assert cook.check_password("New-kitchen-pass-7")
    answer = admin_of.post(f"{USERS}{cashier.pk}/change/", {"username": "cashier"})
    assert answer.status_code == 302
    cashier.refresh_from_db()
    assert not cashier.is_active


def test_the_manager_cannot_touch_a_superuser(admin_of, boss):
    admin_of.post(
        f"{USERS}{boss.pk}/password/", {"password1": "x-Y-z-123456", "password2": "x-Y-z-123456"}
    )
    admin_of.post(f"{USERS}{boss.pk}/delete/", {"post": "yes"})
    boss.refresh_from_db()
    assert boss.check_password("pw-boss")


def test_the_manager_issues_and_revokes_a_device_token(admin_of):
    answer = admin_of.post(
        "/admin/restaurant/devicetoken/add/", {"name": "counter", "role": "cashier", "active": "on"}
    )
    assert answer.status_code == 302
    device = DeviceToken.objects.get(name="counter")
    shown = [str(m) for m in answer.wsgi_request._messages]
    assert any(device.prefix in message for message in shown)
    answer = admin_of.post(
        f"/admin/restaurant/devicetoken/{device.pk}/change/", {"name": "counter", "role": "cashier"}
    )
    assert answer.status_code == 302
    device.refresh_from_db()
    assert not device.active


def test_a_cashier_gets_no_staff_admin(cashier, boss):
    cashier.is_staff = True  # even with staff status, the role is not a manager's
    cashier.save()
    client = Client()
    client.force_login(cashier)
    assert client.get(USERS).status_code == 403
    assert client.get("/admin/restaurant/devicetoken/").status_code == 403
