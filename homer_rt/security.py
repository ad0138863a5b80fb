"""Passwords (bcrypt, always in a worker thread) and access tokens (pyjwt HS256)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import bcrypt
import jwt

from homer_rt.errors import BadRequest, Unauthorized

MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores anything past 72 bytes; refusing beats silently truncating


def check_password_rules(password: str) -> bytes:
    encoded = password.encode("utf-8")
    if not MIN_PASSWORD_BYTES <= len(encoded) <= MAX_PASSWORD_BYTES:
        raise BadRequest(
            f"Password must be between {MIN_PASSWORD_BYTES} and {MAX_PASSWORD_BYTES} bytes long",
            code="invalid_password",
        )
    return encoded


class PasswordHasher:
    """bcrypt costs ~250 ms a hash at the production cost: it runs in a thread so chat never waits on it."""

    def __init__(self, *, rounds: int) -> None:
        self._rounds = rounds
        # A hash to compare against when the account does not exist, so timing does not reveal which emails
        # are registered.
        self._dummy_hash = bcrypt.hashpw(b"homer-dummy-password", bcrypt.gensalt(rounds))

    async def hash(self, password: str) -> str:
        encoded = check_password_rules(password)
        hashed = await asyncio.to_thread(bcrypt.hashpw, encoded, bcrypt.gensalt(self._rounds))
        return hashed.decode("ascii")

    async def verify(self, password: str, password_hash: str | None) -> bool:
        encoded = password.encode("utf-8")[:MAX_PASSWORD_BYTES]
        target = password_hash.encode("ascii") if password_hash else self._dummy_hash
        try:
            matched = await asyncio.to_thread(bcrypt.checkpw, encoded, target)
        except ValueError:
            return False
        return matched and password_hash is not None


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    user_type: str
    token_version: int
    jti: str
    expires_at: datetime


class TokenCodec:
    def __init__(self, *, secret: str, algorithm: str, expiry: timedelta) -> None:
        self._secret = secret
        self._algorithm = algorithm
        self._expiry = expiry

    def issue(self, *, user_id: str, user_type: str, token_version: int, now: datetime) -> str:
        payload: dict[str, Any] = {
            "sub": user_id,
            "user_id": user_id,
            "user_type": user_type,
            "ver": token_version,
            "jti": uuid.uuid4().hex,
            "iat": int(now.timestamp()),
            "exp": int((now + self._expiry).timestamp()),
        }
        return jwt.encode(payload, self._secret, algorithm=self._algorithm)

    def decode(self, token: str, *, now: datetime) -> TokenClaims:
        try:
            # The algorithm list is fixed: a token claiming "alg: none" or another algorithm is refused.
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                # Time claims are checked below against the injected clock, not pyjwt's wall clock.
                options={"require": ["exp", "sub", "jti"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid authentication credentials", code="invalid_token") from exc
        try:
            expires = datetime.fromtimestamp(int(payload["exp"]), tz=now.tzinfo)
            claims = TokenClaims(
                user_id=str(payload["sub"]),
                user_type=str(payload.get("user_type", "")),
                token_version=int(payload.get("ver", 0)),
                jti=str(payload["jti"]),
                expires_at=expires,
            )
        except (TypeError, ValueError, OverflowError) as exc:
            raise Unauthorized("Invalid token payload", code="invalid_token") from exc
        # Expiry is checked against the injected clock rather than the wall clock, so tests can move time.
        if expires <= now:
            raise Unauthorized("Token has expired", code="token_expired")
        return claims
