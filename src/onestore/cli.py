"""The ``onestore`` command. Each context adds its sub-commands in its own ``cli.py``.

Every expected failure is an :class:`~onestore.kernel.errors.OnestoreError`; ``main`` prints it
as one line on stderr and exits with status 2, as do usage errors. Long measurements are
``onestore bench <area>`` commands.
"""

from __future__ import annotations

import os
import sys
import tempfile

import click
import typer
from sqlalchemy.exc import DBAPIError

from onestore.db.contention import as_busy
from onestore.kernel.errors import OnestoreError

app = typer.Typer(
    name="onestore",
    help="onestore: one customer, one inventory, one order for every channel.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
import_app = typer.Typer(help="Import master data from files.", no_args_is_help=True)
export_app = typer.Typer(help="Export master data to files.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks: print a table, then one JSON line.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or upgrade the schema of the configured database (ONESTORE_DATABASE_URL)."""
    from onestore.db.database import Database
    from onestore.db.migrate import current_revision, upgrade

    db = Database()
    upgrade(db.engine, revision)
    typer.echo(f"{db.dialect} database at revision {current_revision(db.engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the configured database."""
    from onestore.db.database import Database
    from onestore.db.migrate import current_revision

    typer.echo(current_revision(Database().engine) or "empty (run: onestore db upgrade)")


@db_app.command("purge-idempotency-keys")
def db_purge_idempotency_keys(
    older_than_hours: int | None = typer.Option(
        None,
        min=24,
        help="Age to purge at (default ONESTORE_IDEMPOTENCY_RETENTION_HOURS, at least 24).",
    ),
) -> None:
    """Delete idempotency keys past retention; run it from cron (e.g. hourly)."""
    from datetime import timedelta

    from onestore.db import idempotency
    from onestore.db.database import Database

    db = Database()
    hours = older_than_hours or db.settings.idempotency_retention_hours
    removed = idempotency.purge(db, timedelta(hours=hours))
    typer.echo(f"purged {removed} idempotency keys older than {hours} h")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (stateless)."),
) -> None:
    """Serve the API, its docs and the back-office pages."""
    import uvicorn

    from onestore.db.database import Database
    from onestore.db.migrate import current_revision

    if current_revision(Database().engine) is None:
        raise OnestoreError("the database has no schema yet; run: onestore db upgrade")
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Let /metrics add up all workers' counters.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="onestore-metrics-")
    uvicorn.run("onestore.api.asgi:app", host=host, port=port, workers=workers, log_level="info")


def _register_contexts() -> None:
    from onestore.catalog.cli import register as register_catalog
    from onestore.demo.cli import register as register_demo
    from onestore.events.cli import register as register_events
    from onestore.inventory.bench import register as register_inventory_bench
    from onestore.inventory.cli import register as register_inventory
    from onestore.pricing.bench import register as register_pricing_bench
    from onestore.pricing.cli import register as register_pricing

    register_catalog(import_app=import_app, export_app=export_app)
    register_demo(app)
    register_events(app)
    register_inventory(app)
    register_inventory_bench(bench_app)
    register_pricing_bench(bench_app)
    register_pricing(app=app, import_app=import_app, export_app=export_app)
    if bench_app.registered_commands:
        app.add_typer(bench_app, name="bench")


_register_contexts()


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the command and turns errors into exit status 2 with one line."""
    try:
        app(args=argv, standalone_mode=False)
    except OnestoreError as err:
        typer.echo(f"error: {err.one_line}", err=True)
        sys.exit(2)
    except DBAPIError as err:
        busy = as_busy(err)
        if busy is None:
            raise
        typer.echo(f"error: {busy.one_line}", err=True)
        sys.exit(2)
    except (typer.Exit, click.exceptions.Exit) as done:
        sys.exit(done.exit_code)
    except (typer.Abort, click.exceptions.Abort):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except (typer.TyperException, click.ClickException) as err:
        # Typer vendors its own click: usage errors arrive as TyperException subclasses.
        ctx = getattr(err, "ctx", None)
        if type(err).__name__ == "NoArgsIsHelpError" and ctx is not None:
            typer.echo(ctx.get_help())
            sys.exit(0)
        message = err.format_message() if hasattr(err, "format_message") else str(err)
        typer.echo(f"error: {' '.join(message.split())}", err=True)
        sys.exit(2)
    except FileNotFoundError as err:
        typer.echo(f"error: {err.filename}: no such file", err=True)
        sys.exit(2)
    except IsADirectoryError as err:
        typer.echo(f"error: {err.filename}: is a directory, not a file", err=True)
        sys.exit(2)
    except PermissionError as err:
        typer.echo(f"error: {err.filename}: permission denied", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
