from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """For load balancers: the process answers and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def ping(request):
    """The cheapest Django view: the baseline the benchmark compares pages with."""
    return HttpResponse("pong", content_type="text/plain")


@require_GET
@login_required
def staff_home(request):
    """Where a staff login lands and the admin's "view site" leads: the screens this role may
    open (the same links as every staff screen's navigation)."""
    return render(request, "staff_home.html")


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a login while the account is locked for this address."""
    context = {"minutes": settings.LOGIN_LOCKOUT_MINUTES}
    return render(request, "registration/locked_out.html", context, status=429)
