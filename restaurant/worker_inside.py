"""The worker inside daphne, for the embedded default (no REDIS_URL).

With the in-memory channel layer a process reaches only its own sockets, so a worker in a
process of its own would expire a payment and push to nobody: the screens would learn of it only
on their next event or a reload. `manage.py serve` therefore runs the worker's jobs inside the one
daphne process there (WORKER_IN_PROCESS): the same JOBS and `run_jobs` as `manage.py worker`, a
round every WORKER_EVERY_MS, in a thread of the executor so that the event loop never waits on
them; their pushes go through the same layer as the requests' (asgiref sends them to the loop).

The loop starts with the first call into the application (an HTTP request or a socket): `serve`
asks `/healthz` once daphne listens, so it starts at once. With Redis, run `manage.py worker`
as a process (or several) of its own instead.
"""

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from restaurant.management.commands.worker import JOBS, run_jobs

logger = logging.getLogger("worker")


class WorkerInside:
    """ASGI middleware: runs the worker's rounds on the event loop that serves `app`."""

    def __init__(self, app: Any, every: float | None = None) -> None:
        self.app = app
        self.every = settings.WORKER_EVERY_MS / 1000 if every is None else every
        self.task: asyncio.Task | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self.run())
        await self.app(scope, receive, send)

    async def run(self) -> None:
        names = ", ".join(name for name, _job in JOBS)
        logger.info("worker: started inside daphne (%s every %g s)", names, self.every)
        # Database connections are opened and closed around each round, as for a socket's reads.
        round_of_jobs = database_sync_to_async(run_jobs, thread_sensitive=False)
        while True:
            try:
                await round_of_jobs()
            except Exception:  # run_jobs logs each job's failure; this is anything else
                logger.exception("worker: a round failed")
            await asyncio.sleep(self.every)
