"""``onestore inventory …``: the jobs that keep stock honest between requests."""

from __future__ import annotations

import typer

from onestore.db.database import Database
from onestore.inventory import reservations
from onestore.inventory.buffers_cli import buffers_app
from onestore.inventory.counts_cli import counts_app

inventory_app = typer.Typer(help="Stock ledger and reservations.", no_args_is_help=True)
inventory_app.add_typer(buffers_app, name="buffers")  # onestore inventory buffers …
inventory_app.add_typer(counts_app)  # onestore inventory accuracy


def register(app: typer.Typer) -> None:
    app.add_typer(inventory_app, name="inventory")


@inventory_app.command("sweep")
def sweep() -> None:
    """Expire soft reservations past their expiry and give their units back; prints how many.

    Availability already ignores them before this runs; the sweep makes ``reserved`` match."""
    db = Database()
    total = 0
    try:
        while True:
            with db.uow() as uow:
                done = reservations.expire_due(uow)
                uow.commit()
            total += done
            if done < reservations.SWEEP_BATCH:
                break
    finally:
        db.dispose()
    typer.echo(f"expired {total} reservation{'s' if total != 1 else ''}")
