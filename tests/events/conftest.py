"""Fixtures for event tests: a NATS JetStream server on loopback and a stream of our own.

Each test gets a stream and subject prefix nobody else uses (tests run in parallel, and the CI
machine's NATS may hold other streams), and the stream is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import nats
import nats.js.errors
import pytest

NATS_URL = os.environ.get("ONESTORE_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _nats_listening() -> bool:
    host, _, port = NATS_URL.removeprefix("nats://").partition(":")
    try:
        with socket.create_connection((host, int(port or 4222)), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Target:
    url: str
    stream: str
    prefix: str


async def _delete_stream(url: str, stream: str) -> None:
    nc = await nats.connect(url, allow_reconnect=False, connect_timeout=2)
    try:
        await nc.jetstream().delete_stream(stream)
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await nc.close()


@pytest.fixture
def nats_target() -> Iterator[Target]:
    """A unique stream and subject prefix on the local NATS server, deleted after the test."""
    if not _nats_listening():
        pytest.skip(f"no NATS JetStream server listening at {NATS_URL} (start nats-server -js)")
    tag = uuid.uuid4().hex[:12]
    target = Target(NATS_URL, f"ONESTORE_TEST_{tag.upper()}", f"onestoretest{tag}")
    yield target
    asyncio.run(_delete_stream(target.url, target.stream))


def free_port() -> int:
    """A loopback TCP port nothing listens on (for "server unreachable" cases)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
