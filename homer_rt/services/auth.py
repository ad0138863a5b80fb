"""Registration, login, logout, password change and token authentication."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from pymongo.errors import DuplicateKeyError
from typing_extensions import TypedDict

from documents.revoked_token import RevokedToken
from documents.user import PrivateUserView, User, UserType
from homer_rt.clock import Clock
from homer_rt.errors import BadRequest, Conflict, DomainError, Forbidden, RateLimited, Unauthorized
from homer_rt.identity import looks_like_email, normalize_email, normalize_phone
from homer_rt.metrics import Metrics
from homer_rt.ratelimit import LoginThrottle, SlidingWindowLimiter, address_key
from homer_rt.realtime import RealtimeEmitter
from homer_rt.security import PasswordHasher, TokenClaims, TokenCodec, check_password_rules

log = logging.getLogger(__name__)

# Sign-in refusals as the homer_logins metric names them (any other refusal counts as "refused").
_LOGIN_OUTCOMES = {
    "invalid_credentials": "invalid_credentials",
    "rate_limited": "rate_limited",
    "account_inactive": "inactive",
    "busy": "overloaded",  # the password hasher's queue is full (security.PasswordHasher)
}

# How many live sockets' token checks are cached before the stale ones are first pruned.
_LIVE_SESSIONS_PRUNE_FROM = 1_024


class SessionResponse(TypedDict):
    """What register, login and change-password answer (the spec's shape)."""

    user_id: str
    token: str
    user_type: UserType
    user: PrivateUserView


@dataclass(frozen=True, slots=True)
class Session:
    """A successful register or login: the user and the token the frontend keeps."""

    user: User
    token: str

    def response(self, now: datetime) -> SessionResponse:
        return {
            "user_id": self.user.id,
            "token": self.token,
            "user_type": self.user.user_type,
            "user": self.user.private_view(now),
        }


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: User
    claims: TokenClaims


class AuthService:
    def __init__(
        self,
        *,
        clock: Clock,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        login_throttle: LoginThrottle,
        registrations_per_address: SlidingWindowLimiter,
        registrations_overall: SlidingWindowLimiter,
        emitter: RealtimeEmitter,
        session_recheck_seconds: float,
        metrics: Metrics,
    ) -> None:
        self._clock = clock
        self._logins = metrics.logins
        self._hasher = hasher
        self._tokens = tokens
        self._login_throttle = login_throttle
        self._registrations_per_address = registrations_per_address
        self._registrations_overall = registrations_overall
        self._emitter = emitter
        self._session_recheck_seconds = session_recheck_seconds
        # token id -> (when checked, monotonic; the user then): live sockets' tokens, checked again lazily.
        self._live_sessions: dict[str, tuple[float, User]] = {}
        self._prune_live_sessions_at = _LIVE_SESSIONS_PRUNE_FROM

    def _issue(self, user: User) -> str:
        return self._tokens.issue(
            user_id=user.id,
            user_type=user.user_type.value,
            token_version=user.token_version,
            now=self._clock.now(),
        )

    async def register(
        self,
        *,
        email: str,
        phone: str,
        password: str,
        user_type: UserType,
        full_name: str | None,
        client_address: str,
    ) -> Session:
        email = normalize_email(email)
        phone = normalize_phone(phone)
        check_password_rules(password)
        self._count_registration(client_address)
        # Cheap pre-check for a friendly message; the unique indexes are what actually guarantee it.
        if await User.find_one({"$or": [{"email": email}, {"phone": phone}]}):
            raise Conflict("Email or phone already registered", code="already_registered")
        user = User(
            email=email,
            phone=phone,
            password_hash=await self._hasher.hash(password),
            user_type=user_type,
            full_name=full_name.strip() if full_name else None,
            created_at=self._clock.now(),
        )
        try:
            await user.insert()
        except DuplicateKeyError as exc:
            raise Conflict("Email or phone already registered", code="already_registered") from exc
        self._login_throttle.succeeded(account=user.id, address=client_address)
        return Session(user=user, token=self._issue(user))

    def _count_registration(self, client_address: str) -> None:
        """Registrations per address and overall, counted whatever their outcome: a refused duplicate costs
        the same, so the 409 cannot be used to list which emails and phones are registered."""
        address = address_key(client_address)
        wait = max(
            self._registrations_per_address.retry_after(address), self._registrations_overall.retry_after("")
        )
        if wait:
            raise RateLimited("Too many registrations. Try again later.", retry_after=wait)
        self._registrations_per_address.record(address)
        self._registrations_overall.record("")

    async def login(self, *, identifier: str, password: str, client_address: str) -> Session:
        """A session for the password's account; counted by outcome (the homer_logins metric)."""
        try:
            session = await self._login(
                identifier=identifier, password=password, client_address=client_address
            )
        except DomainError as error:
            self._logins.labels(outcome=_LOGIN_OUTCOMES.get(error.code, "refused")).inc()
            raise
        self._logins.labels(outcome="success").inc()
        return session

    async def _login(self, *, identifier: str, password: str, client_address: str) -> Session:
        identifier = identifier.strip()
        try:
            key = normalize_email(identifier) if looks_like_email(identifier) else normalize_phone(identifier)
        except BadRequest:
            key = identifier.lower()
        user = await User.find_one({"email": key} if "@" in key else {"phone": key})
        # The user's id when the account exists, so its email and its phone share one budget.
        account = user.id if user is not None else f"unknown:{key}"
        self._check_login_throttle(account=account, address=client_address)
        if not await self._hasher.verify(password, user.password_hash if user else None) or user is None:
            self._login_throttle.failed(account=account, address=client_address)
            raise Unauthorized("Invalid credentials", code="invalid_credentials")
        if not user.is_active:
            raise Forbidden("User account is inactive", code="account_inactive")
        self._login_throttle.succeeded(account=account, address=client_address)
        now = self._clock.now()
        await User.record_login(user_id=user.id, at=now)
        user.last_login = now
        return Session(user=user, token=self._issue(user))

    def _check_login_throttle(self, *, account: str, address: str) -> None:
        wait = self._login_throttle.retry_after(account=account, address=address)
        if wait:
            raise RateLimited("Too many login attempts. Try again later.", retry_after=wait)

    async def authenticate(self, token: str) -> Authenticated:
        """The user behind a bearer token: valid signature, not expired, not revoked, user active."""
        claims = self._tokens.decode(token, now=self._clock.now())
        user = await self._session_user(
            claims.user_id, token_id=claims.jti, token_version=claims.token_version
        )
        return Authenticated(user=user, claims=claims)

    async def live_session_user(self, claims: TokenClaims) -> User:
        """The user behind a live socket's token, as ``authenticate`` checks it, read from the store again at
        most every ``session_recheck_seconds``. An expired token ends the session too: its revocation may be
        gone by then (revocations are kept until the token expires)."""
        if claims.expires_at <= self._clock.now():
            self._live_sessions.pop(claims.jti, None)
            raise Unauthorized("Session expired; log in again", code="session_expired")
        now = self._clock.monotonic()
        checked = self._live_sessions.get(claims.jti)
        if checked is not None and now - checked[0] < self._session_recheck_seconds:
            return checked[1]
        if len(self._live_sessions) >= self._prune_live_sessions_at:
            self._forget_stale_sessions(now)
        try:
            user = await self._session_user(
                claims.user_id, token_id=claims.jti, token_version=claims.token_version
            )
        except (Unauthorized, Forbidden):
            self._live_sessions.pop(claims.jti, None)
            raise
        self._live_sessions[claims.jti] = (now, user)
        return user

    def _forget_stale_sessions(self, now: float) -> None:
        """Drop checks too old to be used again (closed sockets' tokens among them); the next pruning waits
        until the cache has doubled, so it costs O(1) per check."""
        for token_id in [
            t for t, (at, _) in self._live_sessions.items() if now - at >= self._session_recheck_seconds
        ]:
            del self._live_sessions[token_id]
        self._prune_live_sessions_at = max(_LIVE_SESSIONS_PRUNE_FROM, 2 * len(self._live_sessions))

    async def _session_user(self, user_id: str, *, token_id: str, token_version: int) -> User:
        user = await User.get(user_id)
        if user is None or user.token_version != token_version:
            raise Unauthorized("Session is no longer valid; log in again", code="session_revoked")
        if await RevokedToken.get(token_id) is not None:
            raise Unauthorized("Session is no longer valid; log in again", code="session_revoked")
        if not user.is_active:
            raise Forbidden("User account is inactive", code="account_inactive")
        return user

    async def logout(self, *, claims: TokenClaims) -> None:
        """The token stops working, and the sockets it opened close, in every process."""
        revoked = RevokedToken(id=claims.jti, user_id=claims.user_id, expires_at=claims.expires_at)
        with contextlib.suppress(DuplicateKeyError):  # logging out twice with one token is fine
            await revoked.insert()
        self._live_sessions.pop(claims.jti, None)
        await self._emitter.end_token_sessions(claims.jti)

    async def change_password(
        self, *, user: User, old_password: str, new_password: str, client_address: str
    ) -> Session:
        # A stolen token must not become a way round the sign-in limits to guess the password.
        self._check_login_throttle(account=user.id, address=client_address)
        if not await self._hasher.verify(old_password, user.password_hash):
            self._login_throttle.failed(account=user.id, address=client_address)
            raise BadRequest("Current password is incorrect", code="wrong_password")
        new_hash = await self._hasher.hash(new_password)
        # One atomic update: the new hash and a new token version, so every earlier token stops working.
        fresh = await User.replace_password(user_id=user.id, password_hash=new_hash)
        if fresh is None:  # deleted while the hash was computed
            raise Unauthorized("Session is no longer valid; log in again", code="session_revoked")
        # Every earlier token stops working, so do the sockets opened with them (this device's too: it
        # reconnects with the new token).
        await self.end_live_sessions(user_id=user.id)
        return Session(user=fresh, token=self._issue(fresh))

    async def revoke_all_sessions(self, *, user_id: str, reason: str) -> None:
        """Every token the user holds stops working, and their live sockets close with ``reason``."""
        await User.revoke_tokens(user_id=user_id)
        await self.end_live_sessions(user_id=user_id, reason=reason)

    async def end_live_sessions(self, *, user_id: str, reason: str = "session_revoked") -> None:
        """The user changed (password, deactivation, demotion): their sockets close here and now, in every
        process, and a socket that outlives that reads the user again on its next event."""
        for token_id in [t for t, (_, user) in self._live_sessions.items() if user.id == user_id]:
            del self._live_sessions[token_id]
        await self._emitter.disconnect_user(user_id, reason=reason)
