"""The Redis cache, as a cache should be: when Redis is away, a read is a miss and a write is
skipped (logged), never an error page. Only rendered menus live in it; the database is the
truth, so a restaurant without Redis for a while renders its menu on every request instead."""

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError, TimeoutError

log = logging.getLogger(__name__)
AWAY = (ConnectionError, TimeoutError)


class TolerantRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except AWAY as error:
            log.warning("cache: Redis is away (%s); reading %s as a miss", error, key)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except AWAY as error:
            log.warning("cache: Redis is away (%s); reading as misses", error)
            return {}

    def set(self, key, value, timeout=None, version=None):
        try:
            super().set(key, value, timeout, version)
        except AWAY as error:
            log.warning("cache: Redis is away (%s); %s not kept", error, key)

    def add(self, key, value, timeout=None, version=None):
        try:
            return super().add(key, value, timeout, version)
        except AWAY as error:
            log.warning("cache: Redis is away (%s); %s not kept", error, key)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except AWAY as error:
            log.warning("cache: Redis is away (%s); %s not deleted", error, key)
            return False
