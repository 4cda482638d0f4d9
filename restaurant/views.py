from django.db import connection
from django.http import HttpResponse
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
