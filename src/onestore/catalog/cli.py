"""``onestore import catalog`` and ``onestore export catalog``.

Import checks every row before writing anything. With bad rows it prints each one (line or
JSON path, field, reason) to stderr, then one summary line, and exits 2 having written nothing
— unless ``--skip-invalid``, which imports the good rows and still lists the bad ones.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from onestore.api.strict_json import parse_strict
from onestore.catalog import csv_format, exporting
from onestore.catalog.import_plan import Locator
from onestore.catalog.importing import ImportRejected, ImportReport, RowError, import_catalog
from onestore.db.database import Database
from onestore.kernel.errors import OnestoreError, ValidationFailed

MAX_FILE_BYTES = 512 * 1024 * 1024


class FileFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


def register(*, import_app: typer.Typer, export_app: typer.Typer) -> None:
    import_app.command("catalog")(import_command)
    export_app.command("catalog")(export_command)


def migrated_database() -> Database:
    """The configured database, refusing one without a schema with a clear one-liner."""
    from onestore.db.migrate import current_revision

    db = Database()
    if current_revision(db.engine) is None:
        db.dispose()
        raise OnestoreError("the database has no schema yet; run: onestore db upgrade")
    return db


def _format_of(path: Path, given: FileFormat | None) -> FileFormat:
    if given is not None:
        return given
    suffix = path.suffix.lower()
    if suffix in (".json", ".csv"):
        return FileFormat(suffix[1:])
    raise OnestoreError(f"cannot tell the format of {path.name}; pass --format json or csv")


def read_file(file: Path) -> bytes:
    """The file's bytes. A missing path, a directory or an unreadable file is a one-line
    ``ValidationFailed`` on ``FILE`` (exit 2), not a traceback. Checked here rather than with
    typer's ``exists=``/``dir_okay=``: those raise typer's own click exceptions, which
    ``onestore.cli.main`` does not turn into one line."""
    if file.is_dir():
        raise ValidationFailed.on("FILE", f"{file} is a directory, not a file")
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise OnestoreError(f"{file.name} is larger than {MAX_FILE_BYTES // 2**20} MiB")
        return file.read_bytes()
    except FileNotFoundError:
        raise ValidationFailed.on("FILE", f"{file}: no such file") from None
    except OSError as exc:
        raise ValidationFailed.on("FILE", f"cannot read {file}: {exc.strerror or exc}") from None


def import_command(
    file: Path = typer.Argument(..., help="The catalog file (.json document or .csv)."),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the good rows and report the bad ones."
    ),
    file_format: FileFormat | None = typer.Option(
        None, "--format", help="json or csv (default: from the file extension)."
    ),
) -> None:
    """Upsert products (and, from JSON, every other section) by code and SKU."""
    raw = read_file(file)
    kind = _format_of(file, file_format)
    locate = None
    known: list[RowError] = []
    if kind is FileFormat.CSV:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OnestoreError(f"{file.name} is not UTF-8 text: {exc.reason}") from None
        parsed = csv_format.read_csv(text)
        document, locate, known = parsed.document, parsed.locate, parsed.errors
    else:
        document = parse_strict(raw)
        if not isinstance(document, dict):
            raise ValidationFailed.on("document", "must be a JSON object")
    db = migrated_database()
    try:
        report = _run(db, document, skip_invalid, locate, known)
    except ImportRejected as rejected:
        for row in rejected.rows:
            typer.echo(str(row), err=True)
        hint = "; fix them or use --skip-invalid" if not skip_invalid else ""
        raise ValidationFailed(
            f"{len(rejected.rows)} invalid row(s) in {file.name}; nothing was imported{hint}"
        ) from None
    finally:
        db.dispose()
    for row in report.errors:
        typer.echo(str(row), err=True)
    for line in report.summary_lines():
        typer.echo(line)
    if report.errors:
        typer.echo(f"skipped {len(report.errors)} invalid row(s)", err=True)


def _run(
    db: Database,
    document: dict[str, object],
    skip_invalid: bool,
    locate: Locator | None,
    known: list[RowError],
) -> ImportReport:
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not sys.stderr.isatty(),
        transient=True,
    ) as bar:
        task = bar.add_task("products", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        with db.uow() as uow:
            report = import_catalog(
                uow,
                document,
                skip_invalid=skip_invalid,
                progress=progress,
                locate=locate,
                known_errors=known,
            )
            uow.commit()
    return report


def export_command(
    file_format: FileFormat = typer.Option(FileFormat.JSON, "--format", help="json or csv."),
    out: Path | None = typer.Option(None, "--out", help="Write here instead of stdout."),
) -> None:
    """Write the catalog as a JSON document (every section) or CSV (products)."""
    db = migrated_database()
    try:
        with db.uow(readonly=True) as uow:
            document = exporting.export_document(uow)
    finally:
        db.dispose()
    text = (
        exporting.dumps(document)
        if file_format is FileFormat.JSON
        else csv_format.write_csv(document)
    )
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(document['products'])} products to {out}", err=True)
