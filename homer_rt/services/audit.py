"""The admin audit log: one entry per admin action, successful or failed, with secrets removed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from documents.audit_log import AdminAuditLog, AuditStatus
from homer_rt.clock import Clock

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
