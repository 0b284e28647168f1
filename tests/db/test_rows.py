"""``insert_rows``: many rows in one statement on both backends, every value arriving as what
its column holds, conflicts skipped and counted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from onestore.db.database import Database
from onestore.db.rows import insert_rows
from onestore.db.tables import idempotency_keys, outbox


def test_rows_arrive_as_their_columns_hold_them(db: Database) -> None:
    at = datetime(2026, 5, 1, 8, 30, 15, 123456, tzinfo=UTC)
    rows = [
        {
            "id": f"01J0000000000000000000000{n}",
            "event_type": "test.row",
            "aggregate_type": "thing",
            "aggregate_id": f"é-{n}\"'\\",
            "payload": {"n": n, "nested": {"list": [1, "two", None]}, "text": 'quote " here'},
            "occurred_at": at,
        }
        for n in range(3)
    ]
    with db.uow() as uow:
        result = insert_rows(uow.conn, outbox, rows)
        assert result is not None and result.rowcount == 3
        assert insert_rows(uow.conn, outbox, []) is None
        uow.commit()
    with db.uow(readonly=True) as uow:
        stored = list(uow.conn.execute(select(outbox).order_by(outbox.c.id)))
    assert [r.aggregate_id for r in stored] == [r["aggregate_id"] for r in rows]
    assert [r.payload for r in stored] == [r["payload"] for r in rows]
    assert all(r.occurred_at.replace(tzinfo=UTC) == at for r in stored)
    assert all(r.published_at is None for r in stored)


def test_conflicting_rows_are_skipped_counted_and_left_out_of_returning(db: Database) -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)

    def key(name: str) -> dict[str, object]:
        return {
            "scope": "s",
            "key": name,
            "request_hash": "h",
            "state": "completed",
            "claim_token": "t",
            "created_at": now,
            "locked_until": now,
            "response_status": 200,
            "response_body": "{}",
            "completed_at": now,
        }

    with db.uow() as uow:
        insert_rows(uow.conn, idempotency_keys, [key("a")])
        result = insert_rows(
            uow.conn,
            idempotency_keys,
            [key("a"), key("b"), key("c")],
            skip_conflicts=True,
            returning=[idempotency_keys.c.key],
        )
        assert result is not None
        assert sorted(result.scalars()) == ["b", "c"]
        uow.commit()


def test_json_documents_are_stored_as_written_and_refused_alike(db: Database) -> None:
    """Found by review: through jsonb the keys came back re-ordered and a value JSON cannot
    hold (a datetime) was accepted on PostgreSQL only."""
    at = datetime(2026, 5, 1, tzinfo=UTC)
    row = {
        "id": "01J00000000000000000000099",
        "event_type": "test.row",
        "aggregate_type": "thing",
        "aggregate_id": "1",
        "payload": {"zeta": 1, "alpha": 2.5, "big": 10**20},
        "occurred_at": at,
    }
    with db.uow() as uow:
        insert_rows(uow.conn, outbox, [row])
        uow.commit()
    with db.uow(readonly=True) as uow:
        payload = uow.conn.execute(select(outbox.c.payload)).scalar_one()
    assert list(payload) == ["zeta", "alpha", "big"] and payload["big"] == 10**20
    with pytest.raises(Exception, match="not JSON serializable"), db.uow() as uow:
        insert_rows(
            uow.conn, outbox, [{**row, "id": "01J00000000000000000000098", "payload": {"at": at}}]
        )
