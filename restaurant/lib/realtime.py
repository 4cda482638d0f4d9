"""Events out of the request, HTML where a screen listens. Imports no app.

A service's push publishes a small event after its transaction commits: a dict naming what
changed and its ids, sent to a *stream* (a channel-layer group: a kitchen, a tab, the cashier
floor…) and stamped with the stream's next sequence number. Nothing is rendered in the request.

A `StreamConsumer` (one per socket) renders each event for its own screen and language, from the
page's partials, memoised per process: 100 screens of one board on one process render an event
once. Every message ends with a stamp per stream, `<i id="seq-…" data-seq="…">`, which the page
keeps (static/js/live.js), so tests and people can read how far a screen is.

Healing is the consumer's job, not the page's: it sees every event of its streams in order, so
a gap in the numbers (a full channel-layer queue drops silently) means it missed one, and a
check every quarter second of each stream's current number catches a dropped *last* event.
Every published event is also kept for a while in its stream's log (a Redis hash beside the
numbers, written by the same script that numbers it): a screen that missed a few renders just
those from the log, memoised like the live ones, so a late or lost event costs what it would
have cost on time. Only when the log cannot say (more missing than the consumer's
`replay_limit`, numbers taken without an event, the log expired) does the screen get its whole
current state, over the socket it already has: no extra HTTP round trip, no state in the page's
JavaScript, and the same path as a (re)connect.

Sequence numbers are shared by every process: a Redis INCR when REDIS_URL is set, a counter in
this process on the embedded default (one process, in-memory channel layer).
"""

import asyncio
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping
from functools import cache, partial
from typing import Any

import redis
from asgiref.sync import async_to_sync, sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer  # type: ignore[import-untyped]
from django.conf import settings
from django.core.signals import request_finished
from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import translation
from django.utils.html import format_html

logger = logging.getLogger(__name__)

DENIED = 4403
NOT_FOUND = 4404
CHECK_EVERY = 0.25  # seconds between two looks at the streams' current numbers
GRACE = 0.3  # how long an event may be on its way before it counts as dropped
CROSSED = 8  # more numbers missing at once than requests plausibly crossed: the layer dropped them
STATE_SECONDS = 1.0  # how long a rendered whole state serves other screens asking for it
LOG_KEEP = 1000  # events kept per stream in its log, for screens that missed some
LOG_SECONDS = 600  # a stream quiet this long forgets its log
LOG_GAP = 3  # more missing than this were dropped in bulk: one whole state beats replaying each

# Sequence numbers -------------------------------------------------------------------------------

Event = dict[str, Any]  # a small dict: what changed and its ids ("kind", "order", …)
State = str | list[str]  # a rendered state: one message, or pieces sent one by one

_local_seqs: defaultdict[str, int] = defaultdict(int)
_local_lock = threading.Lock()
# redis-py 8's pool lost connections to races ("I/O operation on closed file") when many
# request threads used it at once in the kitchen benchmark; one round trip at a time is plenty.
_redis_lock = threading.Lock()


def _prefix() -> str:
    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    return layer.get("CONFIG", {}).get("prefix", "diancan")


@cache
def _redis(url: str) -> "redis.Redis":
    return redis.Redis.from_url(url, socket_timeout=5)


def _keys(streams: Iterable[str]) -> list[str]:
    return [f"{_prefix()}:seq:{stream}" for stream in streams]


def _log_key(stream: str) -> str:
    return f"{_prefix()}:log:{stream}"


def next_seqs(counts: Mapping[str, int]) -> dict[str, int]:
    """Take counts[stream] numbers on each stream, in one round trip: {stream: the last taken}."""
    return number_and_log({stream: [None] * n for stream, n in counts.items()})


# Per stream: take len(messages) numbers, keep each message under its number in the stream's
# log, forget what is LOG_KEEP behind, and let a quiet stream's log expire. One round trip.
_NUMBER_AND_LOG = """
local keep, seconds, at = tonumber(ARGV[1]), tonumber(ARGV[2]), 3
local tops = {}
for i = 1, #KEYS, 2 do
  local n = tonumber(ARGV[at])
  local top = redis.call('INCRBY', KEYS[i], n)
  for j = 1, n do
    local message, seq = ARGV[at + j], top - n + j
    if message ~= '' then
      redis.call('HSET', KEYS[i + 1], seq, message)
      if seq > keep then redis.call('HDEL', KEYS[i + 1], seq - keep) end
    end
  end
  redis.call('EXPIRE', KEYS[i + 1], seconds)
  tops[#tops + 1] = top
  at = at + n + 1
end
return tops
"""

# stream -> {seq: message}, on the embedded default
_local_log: defaultdict[str, OrderedDict[int, Event]] = defaultdict(OrderedDict)


def number_and_log(messages: Mapping[str, list[Event | None]]) -> dict[str, int]:
    """Number {stream: [message or None]} in order and keep each message (a JSON-ready dict,
    without its number) in its stream's log, for screens that miss it. {stream: last number}."""
    if settings.REDIS_URL:
        keys: list[str] = []
        args: list[Any] = [LOG_KEEP, LOG_SECONDS]
        for stream, batch in messages.items():
            keys += [_keys([stream])[0], _log_key(stream)]
            args += [len(batch), *(json.dumps(m) if m is not None else "" for m in batch)]
        script = _script(settings.REDIS_URL)
        with _redis_lock:
            tops = script(keys=keys, args=args)
        return dict(zip(messages, tops, strict=True))
    with _local_lock:
        for stream, batch in messages.items():
            log = _local_log[stream]
            for message in batch:
                _local_seqs[stream] += 1
                if message is not None:
                    log[_local_seqs[stream]] = message
            while len(log) > LOG_KEEP:
                log.popitem(last=False)
        return {stream: _local_seqs[stream] for stream in messages}


@cache
def _script(url: str) -> Any:
    return _redis(url).register_script(_NUMBER_AND_LOG)


def logged_events(stream: str, seqs: list[int]) -> list[Event] | None:
    """The messages numbered `seqs` on `stream`, in that order; None if the log lacks one."""
    found: list[Event | None]
    if settings.REDIS_URL:
        with _redis_lock:
            values = _redis(settings.REDIS_URL).hmget(_log_key(stream), seqs)
        found = [json.loads(value) if value is not None else None for value in values]
    else:
        with _local_lock:
            log: Mapping[int, Event] = _local_log.get(stream, {})
            found = [log.get(seq) for seq in seqs]
    if any(message is None for message in found):
        return None
    return [{**message, "seq": seq} for message, seq in zip(found, seqs, strict=True) if message]


def current_seqs(streams: Iterable[str]) -> dict[str, int]:
    """{stream: the number of its last event}, 0 for a stream with none yet."""
    streams = list(streams)
    if not streams:
        return {}
    if settings.REDIS_URL:
        with _redis_lock:
            values = _redis(settings.REDIS_URL).mget(_keys(streams))
        return {stream: int(value or 0) for stream, value in zip(streams, values, strict=True)}
    with _local_lock:
        return {stream: _local_seqs[stream] for stream in streams}


# Publishing ------------------------------------------------------------------------------------


def publish(events: Iterable[tuple[str, Event]]) -> None:
    """Number and send [(stream, {event})] now, each distinct event once, in order; during a
    request, once its answer has gone out (HoldEventsUntilAnswered)."""
    held = getattr(_held, "events", None)
    if held is not None:
        held.extend(events)
        return
    distinct = list(dict.fromkeys((stream, tuple(sorted(e.items()))) for stream, e in events))
    if not distinct:
        return
    batches: defaultdict[str, list[Event | None]] = defaultdict(list)
    for stream, items in distinct:
        # The id tells this event from one numbered alike after the counter was lost (Redis
        # flushed or restarted): the memo never serves one event's HTML for another.
        message = {**dict(items), "type": "stream.event", "stream": stream}
        batches[stream].append({**message, "id": uuid.uuid4().hex[:12]})
    tops = number_and_log(batches)
    numbered = []
    for stream, batch in batches.items():
        first = tops[stream] - len(batch) + 1
        numbered += [(stream, {**m, "seq": first + n}) for n, m in enumerate(batch) if m]
    async_to_sync(_send_all)(numbered)


_held = threading.local()  # Django runs each request's sync code in one thread of its own


class HoldEventsUntilAnswered:
    """Middleware: a request's events leave once its answer has been sent (Django closes the
    response after sending it, and `request_finished` follows), so a POST answers no later than
    its screens hear of it. Outside a request (sockets, the worker, tests) events leave at once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        _held.events = []
        try:
            return self.get_response(request)
        except BaseException:
            release()
            raise


def release(**kwargs: Any) -> None:
    events, _held.events = getattr(_held, "events", None), None
    if events:
        try:
            publish(events)
        except Exception:  # as on_commit(robust=True): the answer is out; screens will heal
            logger.exception("Could not publish %d events", len(events))


request_finished.connect(release, dispatch_uid="realtime.release")


# A request's events to one Redis channel layer in two round trips instead of two to four per
# event: channels-redis's group_send, for every (key, message, capacity) in order, in one script.
# The same rules as its group_send: messages older than the layer's expiry are dropped first, a
# process's queue that holds `capacity` messages already does not get this one, the queue lives
# `expiry` seconds. Scores rise by a microsecond per message, so a process pops two messages of
# one batch in the order they were sent (equal scores would pop in their random prefixes' order).
# Screens rely only on each stream's own order (its numbers); one CI run at load delivered two
# streams' events of a batch out of their sending order, not explained yet (tests/test_send_batch.py).
_GROUP_SEND = """
local now, expiry, n = tonumber(ARGV[1]), tonumber(ARGV[2]), #KEYS
local over = 0
for i = 1, n do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, math.floor(now) - expiry)
  if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[2 + n + i]) then
    redis.call('ZADD', KEYS[i], string.format('%.6f', now + i / 1000000), ARGV[2 + i])
    redis.call('EXPIRE', KEYS[i], expiry)
  else
    over = over + 1
  end
end
return over
"""


async def _send_all(numbered: list[tuple[str, Event]]) -> None:
    """Each stream's events in order. On a one-server channels-redis layer, all of them in two
    round trips (the groups' members, then one script); an order's five events (kitchen, tab,
    cashier, bill, pay) took five group_sends of two to four round trips each: 0.8 ms of CPU,
    now 0.3 ms (README Performance, "The order POST's CPU and the burst")."""
    layer = get_channel_layer()
    assert layer is not None  # settings.CHANNEL_LAYERS always names one
    if not (isinstance(layer, RedisChannelLayer) and layer.ring_size == 1):
        for stream, message in numbered:
            await layer.group_send(stream, message)
        return
    connection = layer.connection(0)
    now = time.time()
    streams = list(dict.fromkeys(stream for stream, _message in numbered))
    pipe = connection.pipeline(transaction=False)
    for stream in streams:
        key = layer._group_key(stream)
        pipe.zremrangebyscore(key, min=0, max=int(now) - layer.group_expiry)
        pipe.zrange(key, 0, -1)
    answers = await pipe.execute()
    members = {
        stream: [name.decode() for name in answers[2 * n + 1]] for n, stream in enumerate(streams)
    }
    keys: list[str] = []
    messages: list[bytes] = []
    capacities: list[int] = []
    for stream, message in numbered:
        _by_connection, serialized, capacity = layer._map_channel_keys_to_connection(
            members[stream], message
        )
        for key, value in serialized.items():
            keys.append(key)
            messages.append(value)
            capacities.append(capacity[key])
    if not keys:
        return
    over = await connection.eval(
        _GROUP_SEND, len(keys), *keys, now, layer.expiry, *messages, *capacities
    )
    if over:
        logger.info("%s of %s sends over capacity", over, len(keys))


def publish_on_commit(stream: str, **event: Any) -> None:
    """Publish once the surrounding transaction commits (at once outside one). The events of
    one transaction leave together, each once however often it was asked for. An event asked for
    in a savepoint that rolled back may still leave: a push is only a cue to re-render."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        publish([(stream, event)])
        return
    for _savepoints, queued, _robust in connection.run_on_commit:
        batch = getattr(queued, "events", None)
        if batch is not None:
            batch.append((stream, event))
            return

    events = [(stream, event)]

    def send() -> None:
        publish(events)

    # The transaction's later events join this batch (a function: Django's robust on_commit
    # names it by __qualname__ when it fails).
    setattr(send, "events", events)  # noqa: B010
    transaction.on_commit(send, robust=True)


# Rendering, once per process ------------------------------------------------------------------


class Memo:
    """Renders per key at most once in this process; screens asking while it is being rendered
    wait for the same result. Keeps the last `size` results, each for at most `seconds`."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.done: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()  # key -> (when, html)
        self.pending: dict[tuple, asyncio.Future] = {}
        self.renders = 0  # how many renders ran (tests and benchmarks read it)

    async def get(self, key: tuple, render: Callable[[], Any], seconds: float | None = None) -> Any:
        if key in self.done:
            at, html = self.done[key]
            if seconds is None or time.monotonic() - at < seconds:
                return html
        if key not in self.pending:
            self.pending[key] = asyncio.ensure_future(self._render(key, render))
        return await asyncio.shield(self.pending[key])

    async def _render(self, key: tuple, render: Callable[[], Any]) -> Any:
        try:
            self.renders += 1
            # Renders of different screens overlap their queries in a small pool of threads
            # rather than queueing behind each other in the one thread of sync code.
            html = await database_sync_to_async(render, thread_sensitive=False)()
            self.done[key] = (time.monotonic(), html)
            while len(self.done) > self.size:
                self.done.popitem(last=False)
            return html
        finally:
            self.pending.pop(key, None)


memo = Memo()


def stamp(stream: str, seq: int) -> str:
    """The sequence number a screen has reached on a stream, kept in the page by live.js."""
    return format_html(
        '<i id="seq-{}" class="live-seq" data-stream="{}" data-seq="{}" hidden></i>',
        stream.replace(".", "-"),
        stream,
        seq,
    )


def scope_query(scope: Mapping[str, Any]) -> dict[str, str]:
    """The socket's query string as a dict (`?lang=en&tab=12`)."""
    return dict(
        part.split("=", 1)
        for part in scope.get("query_string", b"").decode().split("&")
        if "=" in part
    )


def scope_language(scope: Mapping[str, Any]) -> str:
    language = scope_query(scope).get("lang", settings.LANGUAGE_CODE)
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class StreamConsumer(AsyncWebsocketConsumer):
    """A screen following one or more streams. Subclasses define:

    - `authorize()` (async): the streams to follow, or None to refuse with `refuse_code`;
    - `render_state(stream)`: the whole current state of that stream for this screen;
    - `render_event(event)`: what one event changes on this screen;
    - `view`: what besides stream and language makes this screen's HTML differ (a board).

    Both render in the socket's language, through the process-wide memo. Screens act over HTTP:
    anything sent on the socket is ignored.
    """

    refuse_code = DENIED
    view: str | None = None
    replay_limit = LOG_GAP  # missed events replayed from the log, at most; more: the whole state
    streams: list[str] = []
    # The streams whose state a (re)connect sends; None: all of them.
    connect_state: set[str] | None = None

    async def authorize(self) -> list[str] | None:
        raise NotImplementedError

    def render_state(self, stream: str) -> State:
        raise NotImplementedError

    def render_event(self, event: Event) -> str:
        raise NotImplementedError

    async def connect(self) -> None:
        self.language = scope_language(self.scope)
        self.last: dict[str, int] = {}  # stream -> the number up to which it has every event
        self.ahead: dict[str, set[int]] = {}  # stream -> numbers above `last` already shown
        self.behind: dict[str, tuple[int, float]] = {}  # stream -> (number due, since when)
        self.heard: dict[str, float] = {}  # stream -> when its last event came (monotonic)
        self.lock = asyncio.Lock()
        streams = await self.authorize()
        if not streams:
            await self.close(code=self.refuse_code)
            return
        self.streams = streams
        for stream in self.streams:
            await self.channel_layer.group_add(stream, self.channel_name)
        await self.accept()
        async with self.lock:
            await self.send_state(self.streams, connecting=True)
        watcher.add(self)

    async def disconnect(self, code: int) -> None:
        watcher.discard(self)
        for stream in self.streams:
            await self.channel_layer.group_discard(stream, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Screens act over HTTP; anything sent here is ignored."""

    async def send_state(self, streams: Iterable[str], connecting: bool = False) -> None:
        """The whole current state of `streams`, stamped with the numbers read before it.

        `render_state` may give a list of pieces (a board too large for one WebSocket message,
        whose limit is 1 MiB): each is sent as a message of its own, the stamp with the last."""
        seqs = await sync_to_async(current_seqs, thread_sensitive=False)(streams)
        html = ""
        for stream, seq in seqs.items():
            if not connecting or self.connect_state is None or stream in self.connect_state:
                state = await self.render(
                    ("state", stream, seq), partial(self.render_state, stream), STATE_SECONDS
                )
                pieces = [state] if isinstance(state, str) else state
                for piece in pieces[:-1]:
                    await self.send(text_data=piece)
                html += pieces[-1] if pieces else ""
            self.last[stream] = seq
            self.ahead[stream] = {n for n in self.ahead.get(stream, ()) if n > seq}
            html += stamp(stream, self.advance(stream))
            self.behind.pop(stream, None)
        await self.send(text_data=html)

    def advance(self, stream: str) -> int:
        """Moves `last` over the numbers that came ahead of their turn; returns it."""
        ahead = self.ahead[stream]
        while self.last[stream] + 1 in ahead:
            self.last[stream] += 1
            ahead.discard(self.last[stream])
        return self.last[stream]

    async def stream_event(self, event: Event) -> None:
        """An event is rendered when it comes, even ahead of a missing one: two requests
        numbered 5 and 6 may send 6 first, and renders read the current state, so the order
        does not matter (every screen of a process gets events in the same order, which keeps
        the memo right). Many numbers missing at once were dropped: healed now; a few still
        missing after GRACE are the watcher's to heal."""
        async with self.lock:
            stream = event["stream"]
            if not await self.show(event):
                return
            self.heard[stream] = time.monotonic()
            ahead = self.ahead.get(stream, set())
            missing = max(ahead, default=0) - self.last[stream] - len(ahead)
            if missing > CROSSED:
                await self.catch_up(stream, max(ahead))

    async def show(self, event: Event) -> bool:
        """Render and send one event unless this screen has it already; False if it had."""
        stream, seq = event["stream"], event["seq"]
        if seq <= self.last[stream] or seq in self.ahead[stream]:
            return False
        key = ("event", stream, seq, event["id"])
        html = await self.render(key, lambda: self.render_event(event))
        self.ahead[stream].add(seq)
        await self.send(text_data=html + stamp(stream, self.advance(stream)))
        return True

    async def catch_up(self, stream: str, upto: int) -> None:
        """Show the events up to `upto` this screen missed, from the stream's log; the whole
        state when the log cannot supply them all, or when more are missing than replaying
        is worth (`replay_limit`)."""
        wanted = [n for n in range(self.last[stream] + 1, upto + 1) if n not in self.ahead[stream]]
        events = None
        if 0 < len(wanted) <= self.replay_limit:
            try:
                events = await sync_to_async(logged_events, thread_sensitive=False)(stream, wanted)
            except Exception:  # Redis away for a moment: the state is the safe answer
                events = None
        if events is None:
            await self.send_state([stream])
            return
        for event in events:
            await self.show(event)

    async def render(
        self, key: tuple, render: Callable[[], Any], seconds: float | None = None
    ) -> Any:
        def in_language() -> Any:
            with translation.override(self.language):
                return render()

        return await memo.get((*key, self.language, self.view), in_language, seconds)

    def dropped(self, stream: str, current: int, now: float) -> bool:
        """The watcher's look: has an event that existed GRACE ago still not come?"""
        last = self.last.get(stream, 0)
        if current < last:
            return True  # the numbers were reset (Redis lost them): start again from the state
        if now - self.heard.get(stream, 0) < GRACE:
            return False  # events are still coming: this screen is slow, not missing one
        target, since = self.behind.get(stream, (0, now))
        if last >= target:  # caught up with what was due: note what is due now, if anything
            if current > last:
                self.behind[stream] = (current, now)
            else:
                self.behind.pop(stream, None)
            return False
        return now - since >= GRACE

    async def heal(self, stream: str, last: int, current: int) -> None:
        async with self.lock:
            if self.last.get(stream, 0) != last:
                return  # an event came meanwhile
            try:
                if current < last:  # the numbers were reset: nothing to replay
                    await self.send_state([stream])
                else:
                    await self.catch_up(stream, current)
            except Exception:  # the socket closed meanwhile
                return


class Watcher:
    """One task per process looks up the current number of every followed stream (one MGET)
    every CHECK_EVERY seconds and lets each consumer compare it with what it has."""

    def __init__(self) -> None:
        self.consumers: set[StreamConsumer] = set()
        self.task: asyncio.Task | None = None

    def add(self, consumer: StreamConsumer) -> None:
        self.consumers.add(consumer)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self.run())

    def discard(self, consumer: StreamConsumer) -> None:
        self.consumers.discard(consumer)

    async def run(self) -> None:
        while self.consumers:
            await asyncio.sleep(CHECK_EVERY)
            consumers = list(self.consumers)
            streams = {stream for consumer in consumers for stream in consumer.streams}
            try:
                seqs = await sync_to_async(current_seqs, thread_sensitive=False)(streams)
            except Exception:  # Redis away for a moment: look again next time
                continue
            now = time.monotonic()
            for consumer in consumers:
                for stream in consumer.streams:
                    if stream in seqs and consumer.dropped(stream, seqs[stream], now):
                        last = consumer.last.get(stream, 0)
                        asyncio.ensure_future(consumer.heal(stream, last, seqs[stream]))
        self.task = None


watcher = Watcher()
