"""Who a bearer token belongs to, remembered for a few seconds per worker process.

Why: every API request names its caller by a bearer token, and looking it up — a pool
check-out and a query, on a worker thread — cost about a tenth of a checkout request's server
time, for an answer that changes a handful of times a day (a token revoked, a staff user
deactivated or re-granted). POS devices and storefront back ends send many requests a second on
the same token, so a short memory answers almost all of them without the database.

The price is a bounded lag, and only across processes: a revocation through this worker's API
forgets everything at once (the route calls :meth:`PrincipalCache.forget_all` after its
commit); another worker, the CLI or a direct database change is seen within ``seconds``
(``ONESTORE_AUTH_CACHE_SECONDS``, 0 turns the memory off). A token's own expiry is never
stretched: an entry lives until the earlier of its TTL and the token's ``expires_at``. Unknown,
revoked and expired tokens are never remembered, so a new token works at once and a guess costs
a look-up each time, as before.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from onestore.auth.model import Principal

MAX_ENTRIES = 10_000
"""Far more tokens than a retailer's devices and back ends use within a few seconds; past it
the memory drops expired entries, then everything (a burst of distinct tokens is rare)."""


class PrincipalCache:
    def __init__(self, seconds: float, now: Callable[[], datetime]) -> None:
        self._ttl = timedelta(seconds=seconds)
        self._now = now
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[Principal, datetime]] = {}
        self.generation = 0
        """Bumped by :meth:`forget_all`: a look-up that began before a revocation must not
        store what it found after it (read it before the look-up, pass it to :meth:`put`)."""

    @property
    def enabled(self) -> bool:
        return self._ttl > timedelta(0)

    def get(self, token: str) -> Principal | None:
        """The token's principal if it was looked up less than ``seconds`` ago."""
        if not self.enabled:
            return None
        entry = self._entries.get(_key(token))
        if entry is None:
            return None
        principal, until = entry
        return principal if self._now() < until else None

    def put(
        self,
        token: str,
        principal: Principal,
        expires_at: datetime | None,
        generation: int,
    ) -> None:
        """Remember ``principal`` for ``token`` unless :meth:`forget_all` ran since the look-up
        began (``generation`` is :attr:`generation` as read before it)."""
        if not self.enabled:
            return
        now = self._now()
        until = now + self._ttl
        if expires_at is not None and expires_at < until:
            until = expires_at
        with self._lock:
            if generation != self.generation:
                return  # a revocation happened while this was looked up
            if len(self._entries) >= MAX_ENTRIES:
                self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries = {}
            self._entries[_key(token)] = (principal, until)

    def forget_all(self) -> None:
        """After a revocation in this process: every later request looks its token up again."""
        with self._lock:
            self._entries = {}
            self.generation += 1


def _key(token: str) -> str:
    # Not the token itself: a memory dump shows digests, as the database does.
    return hashlib.sha256(token.encode()).hexdigest()
