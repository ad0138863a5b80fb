"""Passwords (bcrypt, always in a worker thread) and access tokens (pyjwt HS256)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import os
import sys
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import bcrypt
import jwt

from homer_rt.errors import BadRequest, ServiceUnavailable, Unauthorized

T = TypeVar("T")

MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores anything past 72 bytes; refusing beats silently truncating


def check_password_rules(password: str) -> bytes:
    """What every new password must meet: a length bcrypt hashes whole, and not one of the most common."""
    encoded = password.encode("utf-8")
    if not MIN_PASSWORD_BYTES <= len(encoded) <= MAX_PASSWORD_BYTES:
        raise BadRequest(
            f"Password must be between {MIN_PASSWORD_BYTES} and {MAX_PASSWORD_BYTES} bytes long",
            code="invalid_password",
        )
    if password.lower() in common_passwords():
        raise BadRequest(
            "This password is among the most commonly used ones; choose another", code="common_password"
        )
    return encoded


@functools.cache
def common_passwords() -> frozenset[str]:
    """The most used passwords of leaked password sets (zxcvbn's ranked list of 30,000) long enough to pass
    the length rule, lower-cased as zxcvbn keeps them.

    Read from zxcvbn's data module alone: importing the zxcvbn package builds ranked dictionaries of all
    its word lists (about 14 MB) that password checks here never use."""
    package = importlib.util.find_spec("zxcvbn")
    if package is None or not package.submodule_search_locations:
        raise RuntimeError("zxcvbn is not installed")
    path = Path(next(iter(package.submodule_search_locations))) / "frequency_lists.py"
    spec = importlib.util.spec_from_file_location("homer_rt._zxcvbn_frequency_lists", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    listed: list[str] = module.FREQUENCY_LISTS["passwords"]
    return frozenset(word for word in listed if len(word.encode()) >= MIN_PASSWORD_BYTES)


def _lowest_cpu_priority() -> None:
    """Run this hashing thread at nice 19, so the event loop (chat delivery) always gets the CPU first.

    Linux keeps the nice value per thread; elsewhere setpriority would renice the whole process, so it is
    only done on Linux.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class _HashQueue:
    """A pool of lowest-priority hashing threads with a cap on queued work, past which it refuses at once."""

    def __init__(self, *, name: str, threads: int, max_pending: int) -> None:
        self._max_pending = max_pending
        self._pending = 0
        self._pool = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix=name, initializer=_lowest_cpu_priority
        )

    async def run(self, work: Callable[[], T]) -> T:
        if self._pending >= self._max_pending:
            raise ServiceUnavailable(
                "Too many sign-ins are being processed; try again in a moment", code="busy", retry_after=2
            )
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work)
        finally:
            self._pending -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class PasswordHasher:
    """bcrypt costs ~250 ms a hash at the production cost, so it never runs on the event loop.

    Hashes run on small dedicated pools of lowest-priority threads. Measured with `python -m bench chat`: with
    asyncio's default executor, six full-priority hashing threads shared the CPU with the event loop and a
    storm of 20 logins/s stretched chat p99 latency to seconds; one nice-19 thread keeps it at the idle
    figure. Past ``max_pending`` queued hashes a login is refused at once (503 + Retry-After) rather than
    waiting in an ever-growing queue.

    Checking a password (sign-in) and hashing a new one (registration, password change) have separate
    threads and queues: a flood of registrations fills only its own queue, never delaying or refusing a
    sign-in.
    """

    def __init__(
        self, *, rounds: int, threads: int = 1, max_pending: int = 32, max_pending_new_passwords: int = 8
    ) -> None:
        self._rounds = rounds
        self._sign_ins = _HashQueue(name="bcrypt", threads=threads, max_pending=max_pending)
        self._new_passwords = _HashQueue(name="bcrypt-new", threads=1, max_pending=max_pending_new_passwords)
        # A hash to compare against when the account does not exist, so timing does not reveal which emails
        # are registered.
        self._dummy_hash = bcrypt.hashpw(b"homer-dummy-password", bcrypt.gensalt(rounds))

    async def hash(self, password: str) -> str:
        encoded = check_password_rules(password)
        salt = bcrypt.gensalt(self._rounds)
        hashed = await self._new_passwords.run(lambda: bcrypt.hashpw(encoded, salt))
        return hashed.decode("ascii")

    async def verify(self, password: str, password_hash: str | None) -> bool:
        encoded = password.encode("utf-8")[:MAX_PASSWORD_BYTES]
        target = password_hash.encode("ascii") if password_hash else self._dummy_hash

        def check() -> bool:
            try:
                return bcrypt.checkpw(encoded, target)
            except ValueError:
                return False

        matched = await self._sign_ins.run(check)
        return matched and password_hash is not None

    def close(self) -> None:
        self._sign_ins.close()
        self._new_passwords.close()


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
