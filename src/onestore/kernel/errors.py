"""One exception hierarchy for the whole program.

Every failure a user can cause is one of these. The API maps them once to RFC 9457
problem+json (``onestore.api.problems``) and the CLI maps them once to exit status 2 with a
single line (``onestore.cli``), so the wording a cashier sees and the wording a script sees
come from the same place. Anything else that escapes is a bug and becomes a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class FieldError:
    """One reason one input field was refused; ``field`` is a dotted path like ``lines.0.qty``."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class OnestoreError(Exception):
    """Base of every expected failure: ``status`` is the HTTP status, ``slug`` the problem type."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: list[FieldError] = list(errors or [])

    @property
    def one_line(self) -> str:
        """The single line the CLI prints: the first field and its reason when there is one."""
        if self.errors:
            first = self.errors[0]
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            return f"{first.field}: {first.reason}{more}"
        return self.detail


class ValidationFailed(OnestoreError):
    """Input that breaks a rule. Always names the field(s)."""

    status = 422
    slug = "validation-failed"
    title = "Validation failed"

    @classmethod
    def on(cls, field: str, reason: str) -> ValidationFailed:
        return cls(f"{field}: {reason}", errors=[FieldError(field, reason)])


class MalformedRequest(OnestoreError):
    """A request that cannot even be parsed (bad JSON, NaN, too deep, too large)."""

    status = 400
    slug = "malformed-request"
    title = "Malformed request"


class PayloadTooLarge(OnestoreError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class NotFound(OnestoreError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(OnestoreError):
    """The request is well formed but clashes with current state (duplicate code, stale version)."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class NotAuthenticated(OnestoreError):
    status = 401
    slug = "not-authenticated"
    title = "Not authenticated"


class PermissionDenied(OnestoreError):
    status = 403
    slug = "permission-denied"
    title = "Permission denied"


class TooManyAttempts(OnestoreError):
    """Lockout or rate limit. ``retry_after`` seconds is sent as the ``Retry-After`` header."""

    status = 429
    slug = "too-many-attempts"
    title = "Too many attempts"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ServiceUnavailable(OnestoreError):
    """A system we depend on (event bus, payment connector) is misconfigured or unreachable."""

    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


class DatabaseBusy(ServiceUnavailable):
    """A lock or statement timeout, deadlock or serialization failure: safe to retry shortly."""

    slug = "database-busy"
    title = "Database busy"

    def __init__(self, detail: str, *, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class IdempotencyKeyMissing(OnestoreError):
    status = 400
    slug = "idempotency-key-missing"
    title = "Idempotency-Key header required"


class IdempotencyKeyInvalid(OnestoreError):
    status = 400
    slug = "idempotency-key-invalid"
    title = "Idempotency-Key header invalid"


class IdempotencyInFlight(OnestoreError):
    """A request with this key is still being processed; the client should retry later."""

    status = 409
    slug = "idempotency-in-flight"
    title = "A request with this Idempotency-Key is still in flight"


class IdempotencyKeyReused(OnestoreError):
    """The key was used before with a different request body."""

    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused with a different request"
