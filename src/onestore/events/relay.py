"""The outbox relay: publish committed events to NATS JetStream, in order, de-duplicated.

Why it works this way:

* **At least once, then de-duplicated.** A row is marked published only after JetStream acked
  it. If the relay dies between the ack and the mark, the next run publishes the row again with
  the same ``Nats-Msg-Id`` (the outbox id) and JetStream drops the copy (the ack says
  ``duplicate``). The stream we create keeps ids for :data:`DUPLICATE_WINDOW`, far longer than
  JetStream's 2-minute default, so a relay that is down for a while still cannot double-publish.
  Consumers get the outbox id in every message too and can de-duplicate beyond the window.
* **In order.** Rows go out one at a time in ``seq`` order, each waiting for its ack, so a failed
  publish never lets a later event overtake an earlier one. (On PostgreSQL a transaction that
  took a lower ``seq`` may commit after a higher one was already published; events of one
  aggregate are written in one transaction or in order, which is what consumers rely on.)
* **Several relays at once.** On PostgreSQL a relay publishes only while it holds a
  transaction-scoped advisory lock, so one relay publishes at a time and the others wait their
  turn: no duplicates, and the order is kept. We chose this over ``FOR UPDATE SKIP LOCKED``,
  which would let two relays publish different batches concurrently and out of ``seq`` order.
  On SQLite (one store node) holding the write lock while talking to the network would stall
  every sale, so relays read without a lock and rely on JetStream's de-duplication; the mark is
  a short write transaction of its own.
* **Failures are one line.** A bad URL, an unreachable server or a server without JetStream
  raises :class:`~onestore.kernel.errors.ServiceUnavailable` (``onestore relay`` exits 2).
  We connect without nats-py's own reconnect loop: the relay's polling loop is the retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from sqlalchemy import func, select

from onestore.db.database import Database
from onestore.db.uow import UnitOfWork
from onestore.events.outbox import mark_many_published, pending
from onestore.kernel.errors import ServiceUnavailable, ValidationFailed
from onestore.kernel.events import PublishedEvent

log = logging.getLogger("onestore.events.relay")

DUPLICATE_WINDOW = timedelta(hours=1)
"""How long the stream we create remembers message ids (JetStream's default is 2 minutes)."""

PUBLISH_TIMEOUT = 5.0
"""Seconds to wait for one publish ack; bounds how long a batch can hang on a sick server."""

CONNECT_TIMEOUT = 3
"""Seconds to wait for the TCP connection and the NATS handshake."""

RELAY_LOCK_KEY = 0x6F6E6573746F7265  # "onestore" in ASCII: the PostgreSQL advisory lock id

_NATS_ERRORS = (nats.errors.Error, OSError, asyncio.TimeoutError)


def validate_url(url: str) -> str:
    """Refuse anything but ``nats://`` / ``tls://`` URLs with a host, naming the setting."""
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("nats", "tls") and bool(parts.hostname)
        valid = valid and (parts.port is None or parts.port > 0)  # .port raises if not numeric
    except ValueError:
        valid = False
    if not valid:
        raise ValidationFailed.on(
            "ONESTORE_EVENT_BUS_URL", f"{url!r} is not a nats://host:port URL"
        )
    return url


def subject_for(event: PublishedEvent, prefix: str) -> str:
    return event.subject(prefix)


def message_body(event: PublishedEvent) -> bytes:
    """The JSON each subscriber receives; ``id`` is also the ``Nats-Msg-Id`` header."""
    return json.dumps(
        {
            "id": event.id,
            "event_type": event.event_type,
            "aggregate_type": event.aggregate_type,
            "aggregate_id": event.aggregate_id,
            "payload": event.payload,
            "occurred_at": event.occurred_at.isoformat(),
        },
        separators=(",", ":"),
        default=str,
    ).encode()


@dataclass(slots=True)
class Sent:
    """What one publish round achieved: the acked prefix of the batch, and why it stopped."""

    acked: list[str] = field(default_factory=list)
    duplicates: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    published: int  # rows acked by JetStream and marked published (duplicates included)
    duplicates: int  # of those, how many JetStream already held (a re-run after a crash)
    busy: bool = False  # another relay held the lock, so this one did nothing


class NatsRelay:
    """Publishes one database's outbox to one JetStream stream.

    Use as ``async with NatsRelay(db) as relay: await relay.drain()``.
    """

    def __init__(
        self,
        db: Database,
        *,
        url: str | None = None,
        stream: str | None = None,
        subject_prefix: str | None = None,
    ) -> None:
        settings = db.settings
        chosen = url or settings.event_bus_url
        if not chosen:
            raise ValidationFailed.on("ONESTORE_EVENT_BUS_URL", "is not set")
        self.url = validate_url(chosen)
        self.stream = stream or settings.event_stream
        self.prefix = subject_prefix or settings.event_subject_prefix
        self._db = db
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None

    # -- connection ------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def connect(self) -> None:
        """Connect and make sure the stream exists; ServiceUnavailable if that cannot be done."""

        async def _quiet(exc: Exception) -> None:  # nats-py would print its own tracebacks
            log.debug("event bus: %s", exc)

        await self.close()
        try:
            self._nc = await nats.connect(
                self.url,
                name="onestore-relay",
                allow_reconnect=False,
                connect_timeout=CONNECT_TIMEOUT,
                # nats-py retries a refused first connection max_reconnect_attempts times
                # (default 60 x 2 s) even with allow_reconnect=False: try twice, then report.
                max_reconnect_attempts=1,
                reconnect_time_wait=0.5,
                error_cb=_quiet,
            )
        except (*_NATS_ERRORS, ValueError) as exc:
            raise ServiceUnavailable(
                f"cannot reach the event bus at {self.url}: {_describe(exc)}"
            ) from None
        self._js = self._nc.jetstream(timeout=PUBLISH_TIMEOUT)
        try:
            await self.ensure_stream()
        except ServiceUnavailable:
            await self.close()
            raise

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            try:
                await nc.close()
            except _NATS_ERRORS as exc:  # closing a broken connection: nothing left to do
                log.debug("closing event bus connection: %s", exc)

    def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise ServiceUnavailable(f"not connected to the event bus at {self.url}")
        return self._js

    async def ensure_stream(self) -> None:
        """Create the stream on ``<prefix>.>``, or add that subject to an existing stream."""
        js = self._jetstream()
        wanted = f"{self.prefix}.>"
        try:
            try:
                info = await js.stream_info(self.stream)
            except nats.js.errors.NotFoundError:
                await js.add_stream(
                    StreamConfig(
                        name=self.stream,
                        subjects=[wanted],
                        storage=StorageType.FILE,
                        duplicate_window=DUPLICATE_WINDOW.total_seconds(),
                        description="onestore domain events (outbox relay)",
                    )
                )
                return
            subjects = list(info.config.subjects or [])
            if wanted not in subjects and ">" not in subjects:
                await js.update_stream(info.config.evolve(subjects=[*subjects, wanted]))
        except nats.errors.NoRespondersError:
            raise ServiceUnavailable(
                f"the NATS server at {self.url} has no JetStream (start it with -js)"
            ) from None
        except _NATS_ERRORS as exc:
            raise ServiceUnavailable(
                f"cannot set up stream {self.stream} on {self.url}: {_describe(exc)}"
            ) from None

    # -- publishing --------------------------------------------------------------------------
    async def publish(self, events: Sequence[PublishedEvent]) -> Sent:
        """Publish ``events`` in order, each after the previous one's ack; stop at a failure.

        Does not touch the database: :meth:`relay_once` marks the acked ones. Tests call it
        alone to stand for a relay that crashed between the ack and the mark.
        """
        js = self._jetstream()
        sent = Sent()
        for event in events:
            try:
                ack = await js.publish(
                    subject_for(event, self.prefix),
                    message_body(event),
                    stream=self.stream,
                    headers={"Nats-Msg-Id": event.id},
                )
            except _NATS_ERRORS as exc:
                sent.error = f"publishing event {event.id} failed: {_describe(exc)}"
                break
            sent.acked.append(event.id)
            sent.duplicates += bool(ack.duplicate)
        return sent

    async def relay_once(self, batch: int = 100) -> BatchResult:
        """Publish up to ``batch`` pending events and mark the acked ones published.

        Raises ServiceUnavailable when a publish failed (after marking those before it).
        """
        if self._db.dialect == "postgresql":
            with self._db.uow() as uow:
                if not _try_relay_lock(uow):
                    return BatchResult(0, 0, busy=True)
                sent = await self.publish(pending(uow, batch))
                mark_many_published(uow, sent.acked)
                uow.commit()
        else:
            with self._db.uow(readonly=True) as uow:
                events = pending(uow, batch)
            sent = await self.publish(events)
            if sent.acked:
                with self._db.uow() as uow:
                    mark_many_published(uow, sent.acked)
                    uow.commit()
        if sent.error is not None:
            raise ServiceUnavailable(sent.error)
        return BatchResult(len(sent.acked), sent.duplicates)

    async def drain(self, batch: int = 100) -> BatchResult:
        """Publish until nothing is pending (or another relay holds the turn)."""
        published = duplicates = 0
        while True:
            result = await self.relay_once(batch)
            published += result.published
            duplicates += result.duplicates
            if result.busy or result.published < batch:
                return BatchResult(published, duplicates, busy=result.busy)

    async def run(
        self,
        stop: asyncio.Event,
        *,
        interval: float = 1.0,
        batch: int = 100,
        report: Callable[[BatchResult], None] | None = None,
    ) -> int:
        """Relay until ``stop`` is set, polling every ``interval`` seconds; returns the total.

        A lost connection is logged and retried on the next tick rather than ending the loop:
        nothing is lost while NATS is away, the outbox just grows.
        """
        total = 0
        while not stop.is_set():
            try:
                if not self.connected:
                    await self.connect()
                result = await self.drain(batch)
                total += result.published
                if report is not None and result.published:
                    report(result)
            except ServiceUnavailable as err:
                log.warning("%s; retrying in %.1f s", err.one_line, interval)
                await self.close()
            await wait_or_stop(stop, interval)
        return total


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds`` but wake at once when ``stop`` is set (SIGTERM must not wait a tick)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def _try_relay_lock(uow: UnitOfWork) -> bool:
    """Take the relay's turn for this transaction (PostgreSQL); False if another relay has it."""
    return bool(uow.conn.execute(select(func.pg_try_advisory_xact_lock(RELAY_LOCK_KEY))).scalar())


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    if text.startswith("nats: "):
        text = text[len("nats: ") :]
    return text or type(exc).__name__
