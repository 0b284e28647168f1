"""``onestore inventory accuracy``: inventory record accuracy per location from posted counts.

A sub-app without a name: ``inventory.cli`` adds it to ``onestore inventory`` so its commands
sit beside ``sweep``. The report is the same ``counts.accuracy`` the API and the stock page use,
so the three never disagree.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import typer

from onestore.db.database import Database
from onestore.inventory import counts
from onestore.inventory.counts_queries import AccuracyReport

counts_app = typer.Typer()

MAX_DAYS = 3650


@counts_app.command("accuracy")
def accuracy(
    location: str | None = typer.Option(None, help="One location code (default: all counted)."),
    days: int = typer.Option(90, min=1, max=MAX_DAYS, help="Posted counts of the last N days."),
    tolerance_percent: float = typer.Option(
        0.0, min=0, max=100, help="A line within this % of expected counts as accurate."
    ),
    tolerance_units: int = typer.Option(0, min=0, help="...or within this many units."),
) -> None:
    """Print IRA per location (share of counted lines whose books were right); flags < 95 %."""
    db = Database()
    try:
        with db.uow(readonly=True) as uow:
            report = counts.accuracy(
                uow,
                location,
                uow.now() - timedelta(days=days),
                Decimal(str(tolerance_percent)),
                tolerance_units=tolerance_units,
            )
    finally:
        db.dispose()
    typer.echo(render(report, days))


def render(report: AccuracyReport, days: int) -> str:
    """The report as a fixed-width table, one row per location."""
    head = ("location", "IRA %", "counts", "lines", "accurate", "|variance|", "flag")
    rows = [
        (
            a.location,
            "—" if a.ira_percent is None else f"{a.ira_percent}",
            str(a.counts),
            str(a.lines),
            str(a.accurate_lines),
            str(a.absolute_variance),
            a.flag or ("no posted counts" if a.lines == 0 else "ok"),
        )
        for a in report.locations
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    right = {1, 2, 3, 4, 5}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    title = (
        f"inventory record accuracy, posted counts of the last {days} days "
        f"(tolerance {report.tolerance_units} units / {report.tolerance_percent}%, "
        f"target {report.target_percent}%)"
    )
    if not rows:
        return f"{title}\nno posted counts in this window"
    return "\n".join([title, line(head), *(line(r) for r in rows)])
