"""The one domain error hierarchy.

Services raise these; the REST middleware renders them as ``{"detail": ..., "error": {"code": ...}}``
and the Socket.IO namespaces return the same error in the ack. Services never raise web.HTTPException.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from typing_extensions import TypedDict

if TYPE_CHECKING:
    from pydantic import ValidationError


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.extra = extra or {}

    def as_error(self) -> dict[str, Any]:
        """The ``error`` object both transports show."""
        return {"code": self.code, "message": self.detail, **self.extra}


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class FieldError(TypedDict):
    """One invalid or missing field of a 422: where (dotted path), what is wrong, and a stable type."""

    field: str
    message: str
    type: str


class ValidationFailed(DomainError):
    """A body or parameter of the wrong type, or a missing field. ``fields`` names each one."""

    status = 422
    code = "validation_failed"

    def __init__(self, detail: str, *, fields: list[FieldError]) -> None:
        super().__init__(detail, extra={"fields": fields})

    @classmethod
    def of(cls, fields: list[FieldError]) -> ValidationFailed:
        """The 422 naming ``fields`` in its detail."""
        return cls(
            "Invalid or missing fields: " + ", ".join(sorted({f["field"] for f in fields})), fields=fields
        )

    @classmethod
    def from_pydantic(cls, error: ValidationError, *, root: str = "body") -> ValidationFailed:
        """A pydantic error as a 422; ``root`` names the whole input (body, payload) for errors about it."""
        return cls.of(
            [
                {
                    "field": ".".join(str(part) for part in item["loc"]) or root,
                    "message": item["msg"],
                    "type": item["type"],
                }
                for item in error.errors(include_url=False, include_context=False, include_input=False)
            ]
        )


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
        self.retry_after = retry_after


class TooManyConnections(DomainError):
    """A Socket.IO connect past a per-user or per-address cap (refused at connect, never raised by REST)."""

    status = 429
    code = "too_many_connections"


class UpstreamError(DomainError):
    """A provider we depend on (Razorpay, S3) answered with an error."""

    status = 502
    code = "upstream_error"


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"

    def __init__(self, detail: str, *, code: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(detail, code=code, extra={"retry_after": retry_after} if retry_after else None)
        self.retry_after = retry_after


class UpstreamTimeout(DomainError):
    status = 504
    code = "upstream_timeout"
