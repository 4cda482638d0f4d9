"""What the diner page reads, and that the menu it keeps is the menu it would render."""

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.django_db


def test_cache_objects_of_many_requests_share_one_redis_connection(needs_redis):
    """Under ASGI each request gets its own cache object; each opened its own connection."""

    def connections_to_our_db():
        number = caches["default"]._cache.get_client().connection_pool.connection_kwargs["db"]
        listed = caches["default"]._cache.get_client().client_list()
        return sum(1 for client in listed if client["db"] == str(number))

    before = connections_to_our_db()
    objects = [caches.create_connection("default") for _ in range(20)]  # kept: no GC closing
    for each in objects:
        each.get("anything")
    assert len({id(each._cache) for each in objects}) == 1
    assert connections_to_our_db() - before <= 1
