"""What every Socket.IO namespace shares: auth at connect, the user's room, and the ack envelope.

Acks are ``{"ok": true, "data": ...}`` or ``{"ok": false, "error": {"code", "message"}}``; a domain error
raised by a service becomes the error ack, so REST and sockets report failures the same way.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs

import socketio
from pydantic import BaseModel, ValidationError

from documents.user import User
from handlers.common import check_depth, check_storable, client_address
from homer_rt.errors import DomainError, Unauthorized, ValidationFailed
from homer_rt.live_sockets import LiveSockets
from homer_rt.logs import bind_user, new_request_id, request_context
from homer_rt.realtime import SESSION_ENDED, failed, token_room, user_room
from homer_rt.security import TokenClaims
from homer_rt.services.auth import AuthService
from homer_rt.socketio_compat import connect_request, transport_open

log = logging.getLogger(__name__)
# One DEBUG line per client event: its name, namespace, error code and time taken.
event_log = logging.getLogger("homer_rt.socket_events")

ModelT = TypeVar("ModelT", bound=BaseModel)
Ack = dict[str, Any]


def ok(data: Any = None) -> Ack:
    return {"ok": True, "data": data}


def token_from_connect(environ: dict[str, Any], auth: Any) -> str | None:
    """``auth: {token}`` first, then an ``Authorization: Bearer`` header, then ``?token=``."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"]:
        return str(auth["token"])
    header = str(environ.get("HTTP_AUTHORIZATION", ""))
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    values = parse_qs(environ.get("QUERY_STRING", "")).get("token")
    return values[0] if values else None


def socket_client_address(environ: dict[str, Any]) -> str:
    """The connecting client's address, as REST sees it (handlers.common.client_address)."""
    request = connect_request(environ)
    return client_address(request) if request is not None else "unknown"


def parse_payload(model: type[ModelT], data: Any) -> ModelT:
    check_depth(data)
    try:
        result = model.model_validate(data if data is not None else {})
        check_storable(result)
        return result
    except ValidationError as error:
        raise ValidationFailed.from_pydantic(error, root="payload") from error


HandlerT = TypeVar("HandlerT", bound=Callable[..., Awaitable[Any]])


def acked(handler: HandlerT) -> HandlerT:
    """Wrap an event handler so its result or its domain error goes back as the ack envelope."""

    @functools.wraps(handler)
    async def wrapper(self: AuthenticatedNamespace, sid: str, *args: Any) -> Ack:
        if len(args) > 1:
            # Every event takes one payload object; more arguments would not bind to the handler.
            return failed("validation_failed", "Send one payload object per event")
        try:
            return ok(await handler(self, sid, *args))
        except DomainError as error:
            return failed(error.code, error.detail, **error.extra)
        except Exception:
            log.exception("unhandled error in socket event %s", handler.__name__)
            return failed("internal_error", "Internal server error")

    wrapper.client_event = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


class AuthenticatedNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """Refuses a connection without a valid token, or past the live-connection caps (LiveSockets); every
    connection joins ``user:<id>`` and ``token:<jti>``, and is closed when its token expires."""

    def __init__(self, namespace: str, *, auth: AuthService, sockets: LiveSockets) -> None:
        super().__init__(namespace)
        self._auth = auth
        self._sockets = sockets
        self._closing: set[asyncio.Task[None]] = set()

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        key = (self.namespace, sid)
        try:
            # Counted before the token is read, so a flood of connects is refused before it reads the store.
            self._sockets.admit(key, address=socket_client_address(environ))
            token = token_from_connect(environ, auth)
            if token is None:
                raise Unauthorized("A token is required (auth: {token})", code="not_authenticated")
            authenticated = await self._auth.authenticate(token)
            bind_user(authenticated.user.id)
            await self.authorize(authenticated.user)
            self._sockets.authenticated(
                key, user_id=authenticated.user.id, expires_at=authenticated.claims.expires_at
            )
            await self.save_session(
                sid,
                # The claims, so each event can ask whether the token still stands (see trigger_event).
                {"user_id": authenticated.user.id, "claims": authenticated.claims},
            )
            await self.enter_room(sid, user_room(authenticated.user.id))
            await self.enter_room(sid, token_room(authenticated.claims.jti))
            await self.connected(sid, authenticated.user.id)
        except DomainError as error:
            # No disconnect event follows a refused or failed connect: its slots are freed here.
            self._sockets.release(key)
            # (message, data): clients read a plain err.message and the code in err.data.
            raise socketio.exceptions.ConnectionRefusedError(error.detail, error.as_error()) from error
        except BaseException:
            self._sockets.release(key)
            raise
        if not self._transport_open(sid):
            # The client left while this ran: no disconnect event follows a connect that had not finished.
            self._sockets.release(key)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self._sockets.release((self.namespace, sid))
        user_id = (await self.get_session(sid)).get("user_id")
        if user_id:
            bind_user(str(user_id))
            await self.disconnected(sid, str(user_id))

    def _transport_open(self, sid: str) -> bool:
        return transport_open(self.server, sid, self.namespace)

    async def trigger_event(self, event: str, *args: Any) -> Any:
        # Each event gets an id of its own, bound with its user's id to whatever it logs (homer_rt.logs).
        # Every event runs in a task of its own, so the binding ends with it.
        with request_context(new_request_id()):
            # connect/disconnect only ever come from the server (HomerSocketServer refuses them from
            # clients); any other name must be an @acked handler, so an unknown event is answered rather
            # than left to time out.
            if event in ("connect", "disconnect"):
                return await super().trigger_event(event, *args)
            if not getattr(getattr(self, f"on_{event}", None), "client_event", False):
                return failed("unknown_event", f"Unknown event {event[:100]!r} on {self.namespace}")
            started = time.perf_counter()
            refusal = await self._refuse_ended_session(args[0])
            ack = refusal if refusal is not None else await super().trigger_event(event, *args)
            # Not at INFO: a line per chat message would cost more than the message (benchmarks measure it).
            if event_log.isEnabledFor(logging.DEBUG):
                error = ack.get("error") if isinstance(ack, dict) else None
                event_log.debug(
                    "socket_event",
                    extra={
                        "namespace": self.namespace,
                        "socket_event": event,
                        "error_code": error.get("code") if isinstance(error, dict) else None,
                        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            return ack

    async def _refuse_ended_session(self, sid: str) -> Ack | None:
        """The error ack for an event on a connection whose token stopped working since it connected
        (logged out, password changed, account deactivated or demoted, possibly in another process); the
        connection then closes, after the ack."""
        try:
            claims: TokenClaims = (await self.get_session(sid))["claims"]
            bind_user(claims.user_id)
            await self.authorize(await self._auth.live_session_user(claims))
        except DomainError as error:
            await self.emit(SESSION_ENDED, {"reason": error.code}, to=sid)
            self._closing.add(task := asyncio.create_task(self.disconnect(sid)))
            task.add_done_callback(self._closing.discard)
            return failed(error.code, error.detail, **error.extra)
        except Exception:
            # The store did not answer: this event fails, the connection stays (its token may be fine).
            log.exception("could not check the session of socket %s", sid)
            return failed("internal_error", "Internal server error")
        return None

    async def authorize(self, user: User) -> None:
        """Namespaces with stricter rules (admins only) refuse here, with a DomainError."""

    async def connected(self, sid: str, user_id: str) -> None:
        """Hook for namespaces that act on connect (presence, initial counts)."""

    async def disconnected(self, sid: str, user_id: str) -> None:
        """Hook for namespaces that act when a connection closes (presence)."""

    async def user_id(self, sid: str) -> str:
        session = await self.get_session(sid)
        return str(session["user_id"])
