"""The admin audit log: one entry per admin action, successful or failed, with secrets removed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from documents.audit_log import AdminAuditLog, AuditStatus
from homer_rt.clock import Clock
from homer_rt.errors import DomainError

log = logging.getLogger(__name__)

T = TypeVar("T")

SECRET_FIELDS = frozenset(
    {"password_hash", "password", "token_version", "token", "jwt", "signature", "secret"}
)


def scrub(value: Any) -> Any:
    """A copy of ``value`` with every secret-looking key removed, at any depth."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if k not in SECRET_FIELDS and "secret" not in k}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class AdminActor:
    """Who did an admin action and from where: the HTTP request's address, not the socket layer's."""

    admin_id: str
    ip_address: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What an audited action returns to its caller and what it adds to its audit entry."""

    result: T
    old_value: dict[str, Any] | None = None
    new_value: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)


class AuditLog:
    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock

    async def record(
        self,
        *,
        actor: AdminActor,
        action_type: str,
        entity_type: str,
        entity_id: str | None,
        details: dict[str, Any] | None = None,
        old_value: dict[str, Any] | None = None,
        new_value: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> AdminAuditLog:
        entry = AdminAuditLog(
            admin_id=actor.admin_id,
            action_type=action_type,
            entity_type=entity_type,
            entity_id=entity_id,
            action_details=scrub(details or {}),
            old_value=scrub(old_value) if old_value is not None else None,
            new_value=scrub(new_value) if new_value is not None else None,
            ip_address=actor.ip_address,
            user_agent=actor.user_agent,
            timestamp=self._clock.now(),
            status=AuditStatus.FAILED if error else AuditStatus.SUCCESS,
            error_message=error,
        )
        await entry.insert()
        return entry

    async def record_failure(
        self,
        *,
        actor: AdminActor,
        action_type: str,
        entity_type: str,
        entity_id: str | None,
        details: dict[str, Any] | None = None,
        error: Exception,
    ) -> None:
        """The failed entry of an action that raised; the caller re-raises ``error`` afterwards.

        A domain error is recorded with its message and code. Anything unexpected (the store failing, a bug)
        is recorded too, by its type only: its text may hold what the audit log should not (a connection
        string, a document). Writing this entry never replaces the action's own error: when the store is
        what failed, the entry may not be written, and that is logged.
        """
        if isinstance(error, DomainError):
            message, code = error.detail, error.code
        else:
            message, code = f"Internal error ({type(error).__name__})", "internal_error"
        try:
            await self.record(
                actor=actor,
                action_type=action_type,
                entity_type=entity_type,
                entity_id=entity_id,
                details={**(details or {}), "error_code": code},
                error=message,
            )
        except Exception:
            log.exception("could not write the failed audit entry of %s %s", action_type, entity_id)

    async def audited(
        self,
        *,
        actor: AdminActor,
        action_type: str,
        entity_type: str,
        entity_id: str | None,
        details: dict[str, Any],
        work: Callable[[], Awaitable[Outcome[T]]],
    ) -> T:
        """Run an admin action and audit it whatever happens: a success with the outcome's old and new
        values, or a failure (domain error or unexpected) recorded before the error goes on to the caller."""
        try:
            outcome = await work()
        except Exception as error:
            await self.record_failure(
                actor=actor,
                action_type=action_type,
                entity_type=entity_type,
                entity_id=entity_id,
                details=details,
                error=error,
            )
            raise
        await self.record(
            actor=actor,
            action_type=action_type,
            entity_type=entity_type,
            entity_id=entity_id,
            details={**details, **outcome.details},
            old_value=outcome.old_value,
            new_value=outcome.new_value,
        )
        return outcome.result
