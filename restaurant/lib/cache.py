"""The Redis cache, as a cache should be: when Redis is away, a read is a miss and a write is
skipped (logged), never an error page. Only rendered menus live in it; the database is the
truth, so a restaurant without Redis for a while renders its menu on every request instead."""

import logging
from collections.abc import Iterable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError, TimeoutError

log = logging.getLogger(__name__)
AWAY = (ConnectionError, TimeoutError)


class TolerantRedisCache(RedisCache):
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
