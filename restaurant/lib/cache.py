"""The Redis cache, as a cache should be: when Redis is away, a read is a miss and a write is
skipped (logged), never an error page. Only rendered menus live in it; the database is the
truth, so a restaurant without Redis for a while renders its menu on every request instead."""

import logging
import re
from collections.abc import Iterable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property
from redis.exceptions import ConnectionError, TimeoutError

log = logging.getLogger(__name__)
AWAY = (ConnectionError, TimeoutError)

# One client, and so one connection pool, per process and configuration.
_clients: dict[str, RedisCacheClient] = {}


class TolerantRedisCache(RedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._servers_list = server if isinstance(server, list) else re.split("[;,]", server)
        self._client_options: dict[str, Any] = params.get("OPTIONS", {})

    @cached_property
    def _cache(self) -> RedisCacheClient:
        """Under ASGI Django makes a cache object per request (`caches` is context-local), and
        its Redis client a connection pool per object: every request that read the cache opened
        a new TCP connection to Redis (redis-py reading its package metadata for each), about a
        tenth of a menu page's time, and left it to the garbage collector to close. The objects
        share one client and pool instead (redis-py's pool is thread-safe and starts afresh
        after a fork)."""
        key = repr((self._servers_list, self._client_options))
        client = _clients.get(key)
        if client is None:
            made = RedisCacheClient(self._servers_list, **self._client_options)
            client = _clients.setdefault(key, made)
        return client

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except AWAY as error:
            log.warning("cache: Redis is away (%s); reading %s as a miss", error, key)
            return default

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except AWAY as error:
            log.warning("cache: Redis is away (%s); reading as misses", error)
            return {}

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except AWAY as error:
            log.warning("cache: Redis is away (%s); %s not kept", error, key)

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except AWAY as error:
            log.warning("cache: Redis is away (%s); %s not kept", error, key)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except AWAY as error:
            log.warning("cache: Redis is away (%s); %s not deleted", error, key)
            return False
