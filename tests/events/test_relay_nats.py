"""The outbox relay against a real NATS JetStream server on loopback, on both backends.

What must hold: events reach the stream in ``seq`` order with their outbox id as
``Nats-Msg-Id``; a row is marked only after the ack; a crash between ack and mark re-publishes
a copy JetStream drops; several relays at once neither lose nor duplicate; a rolled-back
event never leaves; bad or unreachable servers give one clear error.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import nats
import pytest
from nats.js.api import StreamConfig
from sqlalchemy import func, select

from onestore.db.database import Database
from onestore.db.tables import outbox
from onestore.events.outbox import pending, pending_count
from onestore.events.relay import NatsRelay, validate_url
from onestore.kernel.errors import ServiceUnavailable, ValidationFailed
from onestore.kernel.events import DomainEvent

from .conftest import Target, free_port

nats_only = pytest.mark.nats


def _emit(db: Database, n: int, event_type: str = "catalog.product_created") -> list[str]:
    with db.uow() as uow:
        ids = [
            uow.emit(DomainEvent(event_type, "product", f"P{i}", {"n": i, "price": "12.50"}))
            for i in range(n)
        ]
        uow.commit()
    return ids


def _relay(db: Database, target: Target) -> NatsRelay:
    return NatsRelay(db, url=target.url, stream=target.stream, subject_prefix=target.prefix)


async def _stream_messages(target: Target) -> list[tuple[str, dict[str, str], dict[str, object]]]:
    """Every message in the stream: (subject, headers, JSON body), in stream order."""
    nc = await nats.connect(target.url, allow_reconnect=False)
    try:
        js = nc.jetstream()
        info = await js.stream_info(target.stream)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(target.stream, seq)
            out.append((str(msg.subject), dict(msg.headers or {}), json.loads(msg.data or b"")))
        assert len(out) == info.state.messages
        return out
    finally:
        await nc.close()


def _published_flags(db: Database) -> list[bool]:
    with db.uow(readonly=True) as uow:
        rows = uow.conn.execute(select(outbox.c.published_at).order_by(outbox.c.seq))
        return [r.published_at is not None for r in rows]


# -- publishing ---------------------------------------------------------------------------------
@nats_only
def test_relay_publishes_pending_events_in_order_with_msg_ids(
    db: Database, nats_target: Target
) -> None:
    ids = _emit(db, 5) + _emit(db, 3, "inventory.stock_changed")

    async def run() -> None:
        async with _relay(db, nats_target) as relay:
            result = await relay.drain(batch=3)
            assert (result.published, result.duplicates, result.busy) == (8, 0, False)
            assert (await relay.drain()).published == 0

    asyncio.run(run())
    messages = asyncio.run(_stream_messages(nats_target))
    assert [body["id"] for _, _, body in messages] == ids
    assert [headers["Nats-Msg-Id"] for _, headers, _ in messages] == ids
    subject, _, body = messages[0]
    assert subject == f"{nats_target.prefix}.catalog.product_created"
    assert messages[-1][0] == f"{nats_target.prefix}.inventory.stock_changed"
    assert body == {
        "id": ids[0],
        "event_type": "catalog.product_created",
        "aggregate_type": "product",
        "aggregate_id": "P0",
        "payload": {"n": 0, "price": "12.50"},
        "occurred_at": db.clock.now().isoformat(),
    }
    assert _published_flags(db) == [True] * 8


@nats_only
def test_crash_between_ack_and_mark_republishes_a_copy_jetstream_drops(
    db: Database, nats_target: Target
) -> None:
    ids = _emit(db, 3)

    async def crashed_then_rerun() -> tuple[int, int, int]:
        async with _relay(db, nats_target) as relay:
            with db.uow(readonly=True) as uow:
                events = pending(uow)
            sent = await relay.publish(events)  # acked by JetStream ...
            assert sent.acked == ids and sent.error is None
        # ... but the relay "died" before marking: every row is still pending.
        with db.uow(readonly=True) as uow:
            assert pending_count(uow) == 3
        async with _relay(db, nats_target) as again:
            result = await again.drain()
        return result.published, result.duplicates, len(ids)

    published, duplicates, n = asyncio.run(crashed_then_rerun())
    assert (published, duplicates) == (n, n)
    messages = asyncio.run(_stream_messages(nats_target))
    assert [body["id"] for _, _, body in messages] == ids  # one copy each
    assert _published_flags(db) == [True] * 3


@nats_only
def test_rolled_back_event_never_reaches_the_stream(db: Database, nats_target: Target) -> None:
    with db.uow() as uow:
        uow.emit(DomainEvent("catalog.product_created", "product", "ghost"))
        uow.rollback()
    kept = _emit(db, 1)

    async def run() -> int:
        async with _relay(db, nats_target) as relay:
            return (await relay.drain()).published

    assert asyncio.run(run()) == 1
    assert [b["id"] for _, _, b in asyncio.run(_stream_messages(nats_target))] == kept


@nats_only
def test_several_relays_at_once_neither_lose_nor_duplicate(
    db: Database, nats_target: Target
) -> None:
    ids = _emit(db, 150)
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    async def relay_until_empty() -> None:
        async with _relay(db, nats_target) as relay:
            start.wait()
            while True:
                result = await relay.drain(batch=10)
                with db.uow(readonly=True) as uow:
                    if pending_count(uow) == 0:
                        return
                if result.busy:  # another relay has the turn (PostgreSQL): let it work
                    await asyncio.sleep(0.005)

    def worker() -> None:
        try:
            asyncio.run(relay_until_empty())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    messages = asyncio.run(_stream_messages(nats_target))
    assert [body["id"] for _, _, body in messages] == ids  # all, once, in seq order
    assert _published_flags(db) == [True] * 150


@nats_only
def test_run_loop_survives_a_dropped_connection(db: Database, nats_target: Target) -> None:
    """The polling loop reconnects by itself; nothing is lost while the bus is away."""

    async def scenario() -> int:
        relay = _relay(db, nats_target)
        await relay.connect()
        stop = asyncio.Event()
        loop = asyncio.create_task(relay.run(stop, interval=0.02, batch=50))
        try:
            await _until_no_pending(db)
            await relay.close()  # the connection goes away under the running loop
            _emit(db, 4)
            await _until_no_pending(db)
        finally:
            stop.set()
            total = await asyncio.wait_for(loop, timeout=10)
            await relay.close()
        return total

    _emit(db, 6)
    assert asyncio.run(scenario()) == 10
    assert len(asyncio.run(_stream_messages(nats_target))) == 10


async def _until_no_pending(db: Database, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with db.uow(readonly=True) as uow:
            if pending_count(uow) == 0:
                return
        assert time.monotonic() < deadline, "relay did not drain the outbox"
        await asyncio.sleep(0.01)


@nats_only
def test_existing_stream_gets_our_subject_added(db: Database, nats_target: Target) -> None:
    async def run() -> list[str]:
        nc = await nats.connect(nats_target.url, allow_reconnect=False)
        try:
            js = nc.jetstream()
            other = f"{nats_target.prefix}_other.>"
            await js.add_stream(StreamConfig(name=nats_target.stream, subjects=[other]))
            async with _relay(db, nats_target):
                pass
            info = await js.stream_info(nats_target.stream)
            return list(info.config.subjects or [])
        finally:
            await nc.close()

    subjects = asyncio.run(run())
    assert sorted(subjects) == sorted([f"{nats_target.prefix}_other.>", f"{nats_target.prefix}.>"])


@nats_only
def test_new_stream_keeps_message_ids_for_an_hour(db: Database, nats_target: Target) -> None:
    async def run() -> float:
        async with _relay(db, nats_target) as relay:
            assert relay.connected
        nc = await nats.connect(nats_target.url, allow_reconnect=False)
        try:
            info = await nc.jetstream().stream_info(nats_target.stream)
            return float(info.config.duplicate_window)
        finally:
            await nc.close()

    assert asyncio.run(run()) == 3600.0


# -- failures -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:4222", "nats://", "127.0.0.1:4222", "nats://host:notaport"]
)
def test_bad_url_is_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_url(url)
    assert caught.value.one_line.startswith("ONESTORE_EVENT_BUS_URL:")


def test_good_urls_are_accepted() -> None:
    for url in ("nats://127.0.0.1:4222", "nats://user:pw@nats.example:4222", "tls://h:4443"):
        assert validate_url(url) == url


def test_unreachable_server_is_a_service_unavailable_error(db: Database) -> None:
    url = f"nats://127.0.0.1:{free_port()}"

    async def run() -> None:
        async with NatsRelay(db, url=url):
            pass

    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as caught:
        asyncio.run(run())
    assert url in caught.value.one_line
    assert "\n" not in caught.value.one_line
    assert time.monotonic() - started < 10


def test_publishing_without_a_connection_is_a_service_unavailable_error(db: Database) -> None:
    _emit(db, 1)
    relay = NatsRelay(db, url="nats://127.0.0.1:4222")
    with pytest.raises(ServiceUnavailable):
        asyncio.run(relay.relay_once())
    with db.uow(readonly=True) as uow:
        assert pending_count(uow) == 1
    with db.uow(readonly=True) as uow:
        total = uow.conn.execute(select(func.count()).select_from(outbox)).scalar_one()
    assert total == 1


def test_relay_needs_a_url(db: Database) -> None:
    with pytest.raises(ValidationFailed):
        NatsRelay(db)
