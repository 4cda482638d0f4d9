"""WebSockets through the real ASGI application (routing, sessions, origin check), in-process."""

from channels.testing import WebsocketCommunicator
from django.test import Client

from restaurant.asgi import application

ORIGIN = (b"origin", b"http://localhost")


def session_cookie(user):
    """A logged-in staff member's cookie header (call it through sync_to_async in a test)."""
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def connect(path, *headers):
    """(communicator, connected, close code); disconnect the communicator when done."""
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, *headers])
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code
