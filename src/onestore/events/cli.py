"""``onestore relay``: get committed outbox events out, to NATS JetStream or in-process.

With ``ONESTORE_EVENT_BUS_URL`` set, events are published to JetStream (see
:mod:`onestore.events.relay`). Without it, there is no broker: events are handed to the
subscribers registered in this process, the same ones the API delivers to after each commit,
so this command only catches up on events a failing subscriber left pending.
"""

from __future__ import annotations

import asyncio
import signal

import typer

from onestore.db.database import Database
from onestore.events.bus import InProcessBus, subscriber_count
from onestore.events.relay import BatchResult, NatsRelay, wait_or_stop
from onestore.kernel.errors import OnestoreError


def register(app: typer.Typer) -> None:
    app.command("relay")(relay)


def relay(
    once: bool = typer.Option(False, "--once", help="Deliver what is pending, then exit."),
    interval: float = typer.Option(
        1.0, "--interval", min=0.05, max=3600, help="Seconds between polls of the outbox."
    ),
    batch: int = typer.Option(100, "--batch", min=1, max=10_000, help="Events per batch."),
) -> None:
    """Deliver committed events: to NATS JetStream when ONESTORE_EVENT_BUS_URL is set, else to
    in-process subscribers. Runs until SIGINT/SIGTERM unless --once."""
    from onestore.db.migrate import current_revision

    db = Database()
    try:
        if current_revision(db.engine) is None:
            raise OnestoreError("the database has no schema yet; run: onestore db upgrade")
        if db.settings.event_bus_url:
            asyncio.run(_to_nats(db, once=once, interval=interval, batch=batch))
        else:
            asyncio.run(_in_process(db, once=once, interval=interval, batch=batch))
    finally:
        db.dispose()


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, so the loop finishes its batch and exits cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _to_nats(db: Database, *, once: bool, interval: float, batch: int) -> None:
    relay = NatsRelay(db)
    target = f"NATS JetStream stream {relay.stream} at {relay.url} (subjects {relay.prefix}.>)"
    async with relay:  # connects and ensures the stream: a bad URL fails here, exit 2
        if once:
            result = await relay.drain(batch)
            busy = " (another relay is publishing)" if result.busy else ""
            typer.echo(
                f"published {result.published} events to {target}"
                f" ({result.duplicates} already there){busy}"
            )
            return
        typer.echo(f"relaying outbox to {target}; stop with Ctrl-C or SIGTERM")

        def _report(result: BatchResult) -> None:
            typer.echo(f"published {result.published} events")

        stop = _stop_on_signals()
        total = await relay.run(stop, interval=interval, batch=batch, report=_report)
        typer.echo(f"stopped; published {total} events")


async def _in_process(db: Database, *, once: bool, interval: float, batch: int) -> None:
    from onestore.api.app import create_app

    create_app(db)  # imports every context, so the same subscribers as the API are registered
    bus = InProcessBus(db)
    target = (
        f"in-process subscribers ({subscriber_count()} registered); "
        "no ONESTORE_EVENT_BUS_URL set, so nothing goes to NATS"
    )
    if once:
        typer.echo(f"delivered {bus.drain(batch)} events to {target}")
        return
    typer.echo(f"delivering outbox to {target}; stop with Ctrl-C or SIGTERM")
    stop = _stop_on_signals()
    total = 0
    while not stop.is_set():
        delivered = bus.drain(batch)
        if delivered:
            typer.echo(f"delivered {delivered} events")
        total += delivered
        await wait_or_stop(stop, interval)
    typer.echo(f"stopped; delivered {total} events")
