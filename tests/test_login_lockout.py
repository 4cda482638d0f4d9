"""Guessing staff passwords: after a few wrong ones, an account is locked for the address the
guesses came from (the staff login and the admin's alike), even against the right password,
until the lock expires or a manager resets it. Other addresses still log in."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

GUESSER = "203.0.113.7"
COUNTER = "198.51.100.20"
LOGINS = ["/accounts/login/", "/admin/login/"]


@pytest.fixture
def staff_manager(manager):
    manager.is_staff = True  # may enter the admin
    manager.save()
    return manager


def attempt(path, password, address=GUESSER):
    client = Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(path, {"username": "manager", "password": password})
    return response, "_auth_user_id" in client.session


@pytest.mark.parametrize("path", LOGINS)
def test_twenty_wrong_passwords_lock_the_account_for_that_address(staff_manager, path):
    answers = [attempt(path, f"guess-{n}")[0].status_code for n in range(20)]
    limit = settings.AXES_FAILURE_LIMIT
    assert answers[: limit - 1] == [200] * (limit - 1)  # "wrong password", try again
    assert answers[limit - 1 :] == [429] * (20 - limit + 1)

    response, logged_in = attempt(path, "pw-manager")
    assert response.status_code == 429 and not logged_in
    page = response.content.decode()
    assert 'id="locked-out"' in page and "Too many wrong passwords" in page
    assert f"{settings.LOGIN_LOCKOUT_MINUTES} minutes" in page

    # The same account from the counter's address is not locked out.
    response, logged_in = attempt(path, "pw-manager", address=COUNTER)
    assert response.status_code == 302 and logged_in


def test_the_lock_ends_when_it_expires(staff_manager):
    for n in range(20):
        attempt(LOGINS[0], f"guess-{n}")
    assert attempt(LOGINS[0], "pw-manager")[1] is False
    lock = timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    AccessAttempt.objects.update(attempt_time=timezone.now() - lock - timedelta(seconds=5))
    response, logged_in = attempt(LOGINS[0], "pw-manager")
    assert response.status_code == 302 and logged_in


def test_a_reset_ends_the_lock_at_once(staff_manager):
    for n in range(20):
        attempt(LOGINS[1], f"guess-{n}")
    assert attempt(LOGINS[1], "pw-manager")[1] is False
    call_command("axes_reset_username", "manager")
    response, logged_in = attempt(LOGINS[1], "pw-manager")
    assert response.status_code == 302 and logged_in


def test_a_manager_unlocks_the_account_in_the_admin(staff_manager, cashier):
    client = Client(REMOTE_ADDR=GUESSER)
    for n in range(20):
        client.post(LOGINS[0], {"username": "cashier", "password": f"guess-{n}"})
    assert attempt_as("cashier", "pw-cashier")[0].status_code == 429
    manager_client = Client()
    manager_client.force_login(staff_manager)
    lock = AccessAttempt.objects.get(username="cashier")
    assert manager_client.get("/admin/axes/accessattempt/").status_code == 200
    answer = manager_client.post(f"/admin/axes/accessattempt/{lock.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    response, logged_in = attempt_as("cashier", "pw-cashier")
    assert response.status_code == 302 and logged_in


def attempt_as(username, password):
    client = Client(REMOTE_ADDR=GUESSER)
    response = client.post(LOGINS[0], {"username": username, "password": password})
    return response, "_auth_user_id" in client.session
