"""``onestore relay`` as an operator runs it: a real process, real signals, exit codes.

These run on SQLite only: the relay's database behaviour on both backends is covered by
``test_relay_nats.py``; here the subject is the command (output, --once, SIGTERM, exit 2).
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from onestore.db.database import Database
from onestore.events.outbox import pending_count
from onestore.kernel.events import DomainEvent
from onestore.settings import Settings

from .conftest import Target, free_port


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "relay.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


def _emit(url: str, n: int) -> None:
    db = Database(url, settings=Settings(database_url=url))
    with db.uow() as uow:
        for i in range(n):
            uow.emit(DomainEvent("catalog.product_created", "product", str(i)))
        uow.commit()
    db.dispose()


def _pending(url: str) -> int:
    db = Database(url, settings=Settings(database_url=url))
    with db.uow(readonly=True) as uow:
        count = pending_count(uow)
    db.dispose()
    return count


def _env(url: str, target: Target | None = None, bus_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESTORE_")}
    env.update(ONESTORE_DATABASE_URL=url, PYTHONUNBUFFERED="1")
    if target is not None:
        env.update(
            ONESTORE_EVENT_BUS_URL=target.url,
            ONESTORE_EVENT_STREAM=target.stream,
            ONESTORE_EVENT_SUBJECT_PREFIX=target.prefix,
        )
    if bus_url is not None:
        env["ONESTORE_EVENT_BUS_URL"] = bus_url
    return env


def _onestore(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onestore.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.nats
def test_relay_once_publishes_and_says_how_many(sqlite_url: str, nats_target: Target) -> None:
    _emit(sqlite_url, 4)
    done = _onestore("relay", "--once", env=_env(sqlite_url, nats_target))
    assert done.returncode == 0, done.stderr
    assert "published 4 events to NATS JetStream" in done.stdout
    assert nats_target.stream in done.stdout
    assert _pending(sqlite_url) == 0


def test_relay_once_without_bus_delivers_in_process(sqlite_url: str) -> None:
    _emit(sqlite_url, 2)
    done = _onestore("relay", "--once", env=_env(sqlite_url))
    assert done.returncode == 0, done.stderr
    assert "delivered 2 events to in-process subscribers" in done.stdout
    assert "no ONESTORE_EVENT_BUS_URL" in done.stdout
    assert _pending(sqlite_url) == 0


@pytest.mark.parametrize(
    ("bus_url", "expected"),
    [
        ("http://127.0.0.1:4222", "ONESTORE_EVENT_BUS_URL"),
        ("nats://127.0.0.1:{port}", "cannot reach the event bus"),
    ],
)
def test_bad_or_unreachable_bus_is_one_line_and_exit_2(
    sqlite_url: str, bus_url: str, expected: str
) -> None:
    _emit(sqlite_url, 1)
    done = _onestore(
        "relay", "--once", env=_env(sqlite_url, bus_url=bus_url.format(port=free_port()))
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert _pending(sqlite_url) == 1  # nothing was marked


def test_relay_without_schema_says_so(tmp_path: Path) -> None:
    done = _onestore("relay", "--once", env=_env(f"sqlite:///{tmp_path / 'empty.db'}"))
    assert done.returncode == 2
    assert "onestore db upgrade" in done.stderr


def _read_until(proc: subprocess.Popen[str], needle: str, timeout: float = 30.0) -> str:
    """Read the process's stdout until a line contains ``needle`` (an event, not a sleep)."""
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} not in output: {''.join(seen)!r}")


@pytest.mark.nats
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_relay_loop_publishes_new_events_and_stops_on_signal(
    sqlite_url: str, nats_target: Target, sig: signal.Signals
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "onestore.cli", "relay", "--interval", "0.05"],
        env=_env(sqlite_url, nats_target),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _read_until(proc, "relaying outbox to NATS JetStream")
        _emit(sqlite_url, 3)
        _read_until(proc, "published 3 events")
        proc.send_signal(sig)
        assert proc.wait(timeout=20) == 0
        assert proc.stdout is not None
        assert "stopped; published 3 events" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _pending(sqlite_url) == 0


def test_in_process_loop_stops_on_sigterm(sqlite_url: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "onestore.cli", "relay", "--interval", "0.05"],
        env=_env(sqlite_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _read_until(proc, "delivering outbox to in-process subscribers")
        _emit(sqlite_url, 2)
        _read_until(proc, "delivered 2 events")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
