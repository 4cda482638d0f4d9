import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "restaurant.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from orders.routing import websocket_urlpatterns as orders_sockets  # noqa: E402
from payments.routing import websocket_urlpatterns as payments_sockets  # noqa: E402
from printing.routing import websocket_urlpatterns as printing_sockets  # noqa: E402
from restaurant.lib.parse import RefuseNulSockets  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            RefuseNulSockets(
                AuthMiddlewareStack(URLRouter(orders_sockets + payments_sockets + printing_sockets))  # type: ignore[arg-type]
            )
        ),
    }
)

if settings.WORKER_IN_PROCESS:  # the embedded default under `manage.py serve`
    # Only then: the worker's jobs import what daphne alone never loads (the printers' sender).
    from restaurant.worker_inside import WorkerInside

    application = WorkerInside(application)  # type: ignore[assignment]

# Everything imported so far lives as long as the process: keep it out of the garbage
# collector's full passes, whose pauses were the tail of the push latency (DESIGN.md).
gc.freeze()
