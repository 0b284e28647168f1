"""``onestore inventory buffers …``: apply buffer stock policies and explain a buffer.

``recompute`` is the job to run from cron after policies change and as sales move velocities.
It commits one batch of balances at a time, so a 200k-balance network neither holds every row
lock until the end nor keeps every change in memory; a run that stops half way leaves each
batch either done or untouched, and running it again finishes the job.
"""

from __future__ import annotations

import json

import typer

from onestore.db.database import Database
from onestore.inventory import buffers

buffers_app = typer.Typer(help="Buffer stock policies.", no_args_is_help=True)


@buffers_app.command("recompute")
def recompute(
    location: str | None = typer.Option(
        None, "--location", help="Only balances at this location code (default: all)."
    ),
) -> None:
    """Set every buffer from the policies; prints how many balances were examined and changed."""
    db = Database()
    examined = changed = 0
    try:
        with db.uow(readonly=True) as uow:
            location_id = buffers.scope_location_id(uow, location)
        after = None
        while True:
            with db.uow() as uow:  # each batch its own transaction, with the policies as now
                index = buffers.load_index(uow)
                batch = buffers.recompute_batch(uow, index, location_id=location_id, after=after)
                uow.commit()
            examined += batch.examined
            changed += batch.changed
            if batch.last is None:
                break
            after = batch.last
    finally:
        db.dispose()
    typer.echo(f"examined {examined}, changed {changed}")


@buffers_app.command("explain")
def explain(
    sku: str = typer.Argument(..., help="SKU (or variant id)."),
    location: str = typer.Argument(..., help="Location code (or id)."),
) -> None:
    """Say how the buffer of SKU at LOCATION was set: by which policy, from which numbers."""
    db = Database()
    try:
        with db.uow(readonly=True) as uow:
            found = buffers.explain(uow, sku, location)
    finally:
        db.dispose()
    typer.echo(f"{found.sku} at {found.location}: buffer {found.buffer} ({found.source})")
    typer.echo(found.explanation)
    if found.inputs:
        typer.echo(json.dumps(found.inputs, sort_keys=True))
    if not found.in_step:
        typer.echo("note: the buffer was changed after this was recorded; run recompute")
