"""Buffer stock policies: keep them, apply them to balances, and say how each buffer came about.

A balance's ``buffer`` is what ``available = on_hand - reserved - buffer`` holds back. People set
it directly (``service.set_buffer``) or write policies here and run :func:`recompute`, which
finds the winning policy for every balance (precedence and methods: ``buffer_rules``), sets the
buffer and records a derivation row a merchandiser can read back with :func:`explain`.

What recompute overwrites, and what it leaves alone:

* a balance a policy covers gets that policy's buffer, even if a person set another one by hand
  (the policy is the standing decision; change or narrow it to stop that);
* a balance no policy covers keeps a buffer set by hand (or one set before policies existed);
* a balance whose last buffer came from a policy that no longer covers it (deleted, edited,
  re-scoped) is reset to 0 with the explanation "no policy".

Editing a policy changes no balance by itself; the next recompute (a cron job running
``onestore inventory buffers recompute``, or the API) applies it.

Recompute works through the balances in ``(variant_id, location_id)`` order, a batch at a time:
each batch is read ``FOR UPDATE`` (on PostgreSQL; SQLite write transactions are serialised
anyway), so the buffer it computes from on hand cannot be overtaken by a concurrent hand set,
and locks are taken in the same global order reservations use. The CLI commits every batch, so
locks are held for one batch only; the API runs all batches in the one transaction its
idempotency record needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from onestore.db.uow import UnitOfWork
from onestore.inventory import balances, refs
from onestore.inventory.buffer_rules import (
    ALL_INPUTS,
    Derivation,
    Match,
    Method,
    Policy,
    PolicyDraft,
    PolicyIndex,
    by_hand,
    check_draft,
    derive,
    no_policy,
)
from onestore.inventory.model import MovementKind
from onestore.inventory.tables import balances as balance_table
from onestore.inventory.tables import buffer_derivations, buffer_policies, movements
from onestore.kernel.clock import as_utc
from onestore.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import new_id

BATCH = 1000
"""Balances per batch: a few hundred kB of Python objects, and short row locks per commit."""

DRAFT_FIELDS = tuple(f.name for f in fields(PolicyDraft))


@dataclass(frozen=True, slots=True)
class PolicyView:
    id: str
    name: str
    sku: str | None
    category: str | None
    location: str | None
    channel: str | None
    method: str
    units: int | None
    percent: str | None  # decimal strings, as stored ("12.50")
    days: str | None
    risk_class: str | None
    velocity_days: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RecomputeResult:
    examined: int  # balances looked at
    changed: int  # balances whose buffer (and so availability) changed


@dataclass(frozen=True, slots=True)
class BatchResult:
    examined: int
    changed: int
    last: balances.Key | None  # resume after this key; None when this was the last batch


@dataclass(frozen=True, slots=True)
class BufferExplanation:
    """Why one balance holds back what it does."""

    sku: str
    location: str
    buffer: int  # what the balance holds back now
    source: str  # policy | hand | none (no policy any more, or never set) | unrecorded
    policy_id: str | None
    policy_name: str | None  # None when no policy, or the policy was deleted since
    explanation: str
    inputs: dict[str, Any]
    computed_at: datetime | None
    in_step: bool  # False when the buffer was changed after this derivation was recorded


# -- reading policies -----------------------------------------------------------------------------
def _policies(uow: UnitOfWork, rows: Sequence[Any]) -> list[tuple[Policy, Any]]:
    """Stored rows as rule-ready policies with their scope codes, in four look-ups at most."""
    sku = refs.skus_by_id(uow, [r.variant_id for r in rows if r.variant_id])
    category = refs.category_codes_by_id(uow, [r.category_id for r in rows if r.category_id])
    location = refs.location_codes_by_id(uow, [r.location_id for r in rows if r.location_id])
    channel = refs.channel_codes_by_id(uow, [r.channel_id for r in rows if r.channel_id])
    return [
        (
            Policy(
                id=r.id,
                name=r.name,
                method=Method(r.method),
                variant_id=r.variant_id,
                category_id=r.category_id,
                location_id=r.location_id,
                channel_id=r.channel_id,
                units=r.units,
                percent=None if r.percent is None else Decimal(r.percent),
                days=None if r.days is None else Decimal(r.days),
                risk_class=r.risk_class,
                velocity_days=r.velocity_days,
                sku=sku.get(r.variant_id or ""),
                category=category.get(r.category_id or ""),
                location=location.get(r.location_id or ""),
                channel=channel.get(r.channel_id or ""),
            ),
            r,
        )
        for r in rows
    ]


def _view(policy: Policy, row: Any) -> PolicyView:
    return PolicyView(
        id=policy.id,
        name=policy.name,
        sku=policy.sku,
        category=policy.category,
        location=policy.location,
        channel=policy.channel,
        method=policy.method.value,
        units=policy.units,
        percent=None if policy.percent is None else f"{policy.percent:.2f}",
        days=None if policy.days is None else f"{policy.days:.2f}",
        risk_class=policy.risk_class,
        velocity_days=policy.velocity_days,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


def list_policies(uow: UnitOfWork) -> list[PolicyView]:
    """Every policy, by name (then id): there are tens, not thousands."""
    rows = list(
        uow.conn.execute(
            select(buffer_policies).order_by(buffer_policies.c.name, buffer_policies.c.id)
        )
    )
    return [_view(policy, row) for policy, row in _policies(uow, rows)]


def _row_or_raise(uow: UnitOfWork, policy_id: str, *, lock: bool = False) -> Any:
    """The policy row; with ``lock`` held until commit, so two edits cannot lose each other's
    fields and a delete waits for a recompute batch that uses the policy."""
    query = select(buffer_policies).where(buffer_policies.c.id == policy_id)
    row = uow.conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"no buffer policy {policy_id!r}")
    return row


def get_policy_or_raise(uow: UnitOfWork, policy_id: str) -> PolicyView:
    policy, row = _policies(uow, [_row_or_raise(uow, policy_id)])[0]
    return _view(policy, row)


# -- writing policies -----------------------------------------------------------------------------
def _check_within(within: frozenset[str] | None, location_id: str | None) -> None:
    """A store-scoped caller (``within`` = their location ids) may only touch policies for one
    of their own locations: a channel or network-wide policy reaches other stores' stock."""
    if within is not None and (location_id is None or location_id not in within):
        raise PermissionDenied("a store-scoped user may only manage buffers at their own location")


def _columns(uow: UnitOfWork, draft: PolicyDraft) -> dict[str, Any]:
    """Check ``draft`` and turn its codes into ids; every problem is a 422 naming the field."""
    errors = check_draft(draft)
    if errors:
        raise ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)
    return {
        "name": draft.name.strip(),
        "method": draft.method,
        "variant_id": refs.variant_ids(uow, [draft.sku], ["sku"])[0] if draft.sku else None,
        "category_id": (
            refs.category_ids(uow, [draft.category], ["category"])[0] if draft.category else None
        ),
        "location_id": (
            refs.location_ids(uow, [draft.location], ["location"])[0] if draft.location else None
        ),
        "channel_id": (
            refs.channel_ids(uow, [draft.channel], ["channel"])[0] if draft.channel else None
        ),
        **{name: getattr(draft, name) for name in ALL_INPUTS},
    }


def _emit(uow: UnitOfWork, what: str, view: PolicyView) -> None:
    payload = {k: v for k, v in asdict(view).items() if k not in ("created_at", "updated_at")}
    uow.emit(DomainEvent(f"inventory.buffer_policy_{what}", "buffer_policy", view.id, payload))


def create_policy(
    uow: UnitOfWork, draft: PolicyDraft, *, within: frozenset[str] | None = None
) -> PolicyView:
    """Store a new policy. It sets no buffer until the next :func:`recompute`."""
    values = _columns(uow, draft)
    _check_within(within, values["location_id"])
    policy_id = new_id()
    now = uow.now()
    uow.conn.execute(
        buffer_policies.insert().values(id=policy_id, created_at=now, updated_at=now, **values)
    )
    view = get_policy_or_raise(uow, policy_id)
    _emit(uow, "created", view)
    return view


def _merge(current: PolicyDraft, changes: Mapping[str, Any]) -> PolicyDraft:
    """``current`` with ``changes`` applied, as a PATCH means it: naming a SKU replaces the
    category (and the reverse), naming a location replaces the channel (and the reverse), and a
    new method drops the old method's inputs unless they are given again."""
    unknown = sorted(set(changes) - set(DRAFT_FIELDS))
    if unknown:
        raise ValidationFailed.on(unknown[0], "not a buffer policy field")
    merged = dict(changes)
    for given, other in (
        ("sku", "category"),
        ("category", "sku"),
        ("location", "channel"),
        ("channel", "location"),
    ):
        if changes.get(given) is not None and other not in changes:
            merged[other] = None
    if "method" in changes and changes["method"] != current.method:
        merged |= {name: None for name in ALL_INPUTS if name not in changes}
    return replace(current, **merged)


def _draft_of(view: PolicyView) -> PolicyDraft:
    return PolicyDraft(
        name=view.name,
        method=view.method,
        sku=view.sku,
        category=view.category,
        location=view.location,
        channel=view.channel,
        units=view.units,
        percent=None if view.percent is None else Decimal(view.percent),
        days=None if view.days is None else Decimal(view.days),
        risk_class=view.risk_class,
        velocity_days=view.velocity_days,
    )


def update_policy(
    uow: UnitOfWork,
    policy_id: str,
    changes: Mapping[str, Any],
    *,
    within: frozenset[str] | None = None,
) -> PolicyView:
    """Change some fields of a policy (see :func:`_merge`); no change writes nothing."""
    row = _row_or_raise(uow, policy_id, lock=True)
    _check_within(within, row.location_id)
    current = get_policy_or_raise(uow, policy_id)
    values = _columns(uow, _merge(_draft_of(current), changes))
    _check_within(within, values["location_id"])
    if all(_same(getattr(row, column), value) for column, value in values.items()):
        return current
    uow.conn.execute(
        update(buffer_policies)
        .where(buffer_policies.c.id == policy_id)
        .values(updated_at=uow.now(), **values)
    )
    view = get_policy_or_raise(uow, policy_id)
    _emit(uow, "updated", view)
    return view


def _same(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, Decimal | float) and wanted is not None:
        return Decimal(str(stored)) == Decimal(wanted)
    return bool(stored == wanted)


def delete_policy(
    uow: UnitOfWork, policy_id: str, *, within: frozenset[str] | None = None
) -> PolicyView:
    """Remove a policy. Derivations it made keep their text but lose the link, and the next
    recompute resets those balances to 0 (or to another policy that now wins)."""
    _check_within(within, _row_or_raise(uow, policy_id, lock=True).location_id)
    view = get_policy_or_raise(uow, policy_id)
    uow.conn.execute(
        update(buffer_derivations)
        .where(buffer_derivations.c.policy_id == policy_id)
        .values(policy_id=None)
    )
    uow.conn.execute(delete(buffer_policies).where(buffer_policies.c.id == policy_id))
    _emit(uow, "deleted", view)
    return view


# -- recompute ------------------------------------------------------------------------------------
def load_index(uow: UnitOfWork) -> PolicyIndex:
    """Every policy, the category tree and the channels' networks: what matching needs.

    The policies are share-locked until this unit of work ends (PostgreSQL), so a policy a
    batch derives from cannot be deleted under it; load it again for every batch."""
    rows = list(uow.conn.execute(select(buffer_policies).with_for_update(read=True)))
    return PolicyIndex(
        (policy for policy, _ in _policies(uow, rows)),
        refs.category_parent_ids(uow),
        refs.channel_serving(uow),
    )


def scope_location_id(
    uow: UnitOfWork, location: str | None, within: frozenset[str] | None = None
) -> str | None:
    """The location a recompute is limited to (None = all); a store-scoped caller must name
    one of theirs."""
    location_id = None if location is None else refs.location_ids(uow, [location], ["location"])[0]
    if within is not None:
        _check_within(within, location_id)
    return location_id


def recompute(
    uow: UnitOfWork,
    location: str | None = None,
    *,
    within: frozenset[str] | None = None,
    batch_size: int = BATCH,
) -> RecomputeResult:
    """Apply the policies to every balance (at ``location``, or everywhere) in this unit of
    work, batch by batch; returns how many balances were examined and how many changed."""
    location_id = scope_location_id(uow, location, within)
    index = load_index(uow)
    examined = changed = 0
    after: balances.Key | None = None
    while True:
        batch = recompute_batch(uow, index, location_id=location_id, after=after, limit=batch_size)
        examined += batch.examined
        changed += batch.changed
        if batch.last is None:
            return RecomputeResult(examined, changed)
        after = batch.last


def _page(
    uow: UnitOfWork, location_id: str | None, after: balances.Key | None, limit: int
) -> list[Any]:
    b = balance_table
    query = select(b.c.variant_id, b.c.location_id, b.c.on_hand, b.c.buffer)
    if location_id is not None:
        query = query.where(b.c.location_id == location_id)
    if after is not None:
        query = query.where(
            or_(
                b.c.variant_id > after[0],
                and_(b.c.variant_id == after[0], b.c.location_id > after[1]),
            )
        )
    query = query.order_by(b.c.variant_id, b.c.location_id).limit(limit).with_for_update()
    return list(uow.conn.execute(query))


def _sold(uow: UnitOfWork, keys: Sequence[balances.Key], window_days: int) -> dict[Any, int]:
    """Units sold net of returns per balance over the last ``window_days`` days, one query."""
    if not keys:
        return {}
    now = uow.now()
    m = movements
    rows = uow.conn.execute(
        select(m.c.variant_id, m.c.location_id, func.sum(m.c.on_hand_delta).label("delta"))
        .where(
            m.c.kind.in_([MovementKind.SALE.value, MovementKind.RETURN.value]),
            m.c.occurred_at >= now - timedelta(days=window_days),
            m.c.occurred_at <= now,
            m.c.variant_id.in_(sorted({k[0] for k in keys})),
            m.c.location_id.in_(sorted({k[1] for k in keys})),
        )
        .group_by(m.c.variant_id, m.c.location_id)
    )
    wanted = set(keys)
    return {
        (r.variant_id, r.location_id): max(0, -int(r.delta))
        for r in rows
        if (r.variant_id, r.location_id) in wanted
    }


def _derivations(uow: UnitOfWork, keys: Sequence[balances.Key]) -> dict[Any, Any]:
    if not keys:
        return {}
    d = buffer_derivations
    rows = uow.conn.execute(
        select(d).where(
            d.c.variant_id.in_(sorted({k[0] for k in keys})),
            d.c.location_id.in_(sorted({k[1] for k in keys})),
        )
    )
    wanted = set(keys)
    return {
        (r.variant_id, r.location_id): r for r in rows if (r.variant_id, r.location_id) in wanted
    }


def _source(row: Any) -> str | None:
    return row.inputs.get("source") if row is not None and isinstance(row.inputs, dict) else None


def recompute_batch(
    uow: UnitOfWork,
    index: PolicyIndex,
    *,
    location_id: str | None = None,
    after: balances.Key | None = None,
    limit: int = BATCH,
) -> BatchResult:
    """One batch of :func:`recompute`: up to ``limit`` balances after key ``after``."""
    rows = _page(uow, location_id, after, limit)
    keys = [(r.variant_id, r.location_id) for r in rows]
    matches: dict[balances.Key, Match | None] = {}
    if index:
        category_of = refs.variant_category_ids(uow, [k[0] for k in keys])
        matches = {k: index.winner(k[0], category_of.get(k[0]), k[1]) for k in keys}
    windows: dict[int, list[balances.Key]] = {}
    for key, match in matches.items():
        if match is not None and match.policy.velocity_days is not None:
            windows.setdefault(match.policy.velocity_days, []).append(key)
    sold: dict[Any, int] = {}
    for window_days, window_keys in windows.items():
        sold |= _sold(uow, window_keys, window_days)
    previous = _derivations(uow, keys)
    writes: list[tuple[balances.Key, str | None, Derivation]] = []
    changed = 0
    for row, key in zip(rows, keys, strict=True):
        match = matches.get(key)
        if match is not None:
            derived = derive(match.policy, on_hand=row.on_hand, sold=sold.get(key, 0))
        elif _source(previous.get(key)) == "policy":
            derived = no_policy()
        else:
            continue  # set by hand, never set, or already reset: not a policy's business
        if derived.buffer != row.buffer:
            balance = balances.apply(
                uow, key, {"buffer": derived.buffer}, balance_table.c.buffer == row.buffer
            )
            if balance is None:  # cannot happen under the row lock; never clobber a change
                continue
            balances.announce(uow, key, balance)
            changed += 1
        writes.append((key, None if match is None else match.policy.id, derived))
    _record(uow, writes)
    uow.flush_events()  # keep a long recompute's pending events out of memory
    return BatchResult(len(rows), changed, keys[-1] if len(rows) == limit else None)


def _record(uow: UnitOfWork, writes: Sequence[tuple[balances.Key, str | None, Derivation]]) -> None:
    """Upsert one derivation row per balance, in one statement."""
    if not writes:
        return
    now = uow.now()
    insert: Any = pg_insert if uow.conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(buffer_derivations)
    statement = statement.on_conflict_do_update(
        index_elements=[buffer_derivations.c.variant_id, buffer_derivations.c.location_id],
        set_={
            name: statement.excluded[name]
            for name in ("policy_id", "buffer", "explanation", "inputs", "computed_at")
        },
    )
    uow.conn.execute(
        statement,
        [
            {
                "variant_id": key[0],
                "location_id": key[1],
                "policy_id": policy_id,
                "buffer": derived.buffer,
                "explanation": derived.explanation,
                "inputs": derived.inputs,
                "computed_at": now,
            }
            for key, policy_id, derived in writes
        ],
    )


def record_by_hand(uow: UnitOfWork, key: balances.Key, buffer: int, actor: str | None) -> None:
    """Note that a person set this buffer (``service.set_buffer`` calls it)."""
    _record(uow, [(key, None, by_hand(buffer, actor))])


# -- explain --------------------------------------------------------------------------------------
def explain(uow: UnitOfWork, sku: str, location: str) -> BufferExplanation:
    """How the buffer of ``sku`` at ``location`` was derived (or that nothing set one)."""
    [(variant_id, sku_code)], [(location_id, location_code)] = refs.stock_lines(
        uow, [sku], ["sku"], [location], ["location"]
    )
    key = (variant_id, location_id)
    balance = balances.read(uow, key)
    buffer = 0 if balance is None else balance.buffer
    row = _derivations(uow, [key]).get(key)
    if row is None:
        if buffer == 0:
            text, source = "no buffer: no policy or person has set one here", "none"
        else:
            text = f"{buffer} units held back since before buffers were explained"
            source = "unrecorded"
        return BufferExplanation(
            sku_code, location_code, buffer, source, None, None, text, {}, None, True
        )
    name = None
    if row.policy_id is not None:
        name = uow.conn.execute(
            select(buffer_policies.c.name).where(buffer_policies.c.id == row.policy_id)
        ).scalar_one_or_none()
    return BufferExplanation(
        sku=sku_code,
        location=location_code,
        buffer=buffer,
        source=_source(row) or "none",
        policy_id=row.policy_id,
        policy_name=name,
        explanation=row.explanation,
        inputs=dict(row.inputs) if isinstance(row.inputs, dict) else {},
        computed_at=as_utc(row.computed_at),
        in_step=row.buffer == buffer,
    )
