"""``onestore demo``: migrate the configured database, load the demo retailer, optionally serve.

The command is what a newcomer runs first, so it ends by printing exactly where to go and how
to sign in. With ``--serve`` it hands over to ``onestore serve``'s own code, so the demo
server is the real server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from onestore.demo.generator import MAX_SCALE
from onestore.demo.staff import DEMO_PASSWORD

if TYPE_CHECKING:
    from onestore.demo.loader import ProgressReport

_STAGES = {
    "generate": "Generating demo catalog",
    "catalog": "Importing catalog",
    "staff": "Creating staff users",
    "stock": "Loading opening stock",
    "history": "Replaying 30 days of sales",
    "pricing": "Prices, promotions and tax",
}


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    scale: int = typer.Option(
        1, min=1, max=MAX_SCALE, help="Multiplies the catalog: 1 = 2,000 products (~8,000 SKUs)."
    ),
    seed: int = typer.Option(1, min=0, help="Same seed and scale give the same data."),
    serve: bool = typer.Option(False, "--serve", help="Start the server afterwards."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (with --serve)."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port (with --serve)."),
) -> None:
    """Write the deterministic demo retailer into the database (ONESTORE_DATABASE_URL)."""
    from onestore.db.database import Database
    from onestore.db.migrate import upgrade
    from onestore.demo.loader import load_demo

    db = Database()
    started = time.perf_counter()
    try:
        upgrade(db.engine)
        with _progress_display() as report:
            result = load_demo(db, seed=seed, scale=scale, progress=report)
    finally:
        db.dispose()
    elapsed = time.perf_counter() - started
    if result.already_present:
        typer.echo(
            f"The demo (seed {seed}, scale {scale}) is already in this {db.dialect} database; "
            "nothing to do."
        )
    else:
        c = result.counts
        typer.echo(
            f"Loaded the demo retailer (seed {seed}, scale {scale}) into {db.dialect} in "
            f"{elapsed:.1f} s: {c['products']:,} products, {c['variants']:,} SKUs, "
            f"{c['categories']} categories, {c['locations']} locations, {c['channels']} channels, "
            f"{c['assortments']} assortments, {c['staff']} staff users, "
            f"{c['stock_balances']:,} stock balances ({c['stock_units']:,} units) at "
            f"{c['stock_locations']} locations, {c['sales']} sales and {c['returns']} returns "
            "in the last 30 days."
        )
    url = f"http://{host}:{port}"
    typer.echo(f"Open        {url}")
    typer.echo(f"API docs    {url}/docs")
    typer.echo(f"Back office {url}/backoffice")
    typer.echo(f"Demo login  admin / {DEMO_PASSWORD}")
    if serve:
        from onestore.cli import serve as serve_command

        serve_command(host=host, port=port, workers=1)


@contextmanager
def _progress_display() -> Iterator[ProgressReport]:
    """A Rich progress display fed by the loader's ``progress(stage, done, total)`` calls.

    Shown only on a terminal (on stderr); in pipes and tests the summary line says it all.
    """
    console = Console(stderr=True)
    bar = Progress(
        TextColumn("{task.description:<26}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
        bar.update(tasks[stage], completed=done, total=total)

    with bar:
        yield report
