"""Logging: one handler on the root logger, JSON lines in production and readable lines in development.

Every module logs through the standard library (``logging.getLogger(__name__)``); structlog's
ProcessorFormatter turns each record into an event dict, adds the level, the logger's name, a UTC
timestamp, the record's ``extra`` fields and the request context (the id of the HTTP request or Socket.IO
event being handled, and its user's id once known), removes anything that looks like a secret, and renders
it. The request context lives in context variables, so it follows a request through every ``await`` and
never leaks into another request's records.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextvars import ContextVar
from typing import Any, TextIO

import orjson
import structlog

from homer_rt.settings import Settings

_request_id: ContextVar[str | None] = ContextVar("homer_request_id", default=None)
_user_id: ContextVar[str | None] = ContextVar("homer_user_id", default=None)

# What X-Request-ID may hold when a trusted proxy sends it: ids as proxies and tracers write them (uuids, hex,
# nginx's $request_id), nothing that could break a log line.
_REQUEST_ID_FORMAT = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# Libraries that, below these levels, log what must not be in a log: python-engineio and python-socketio
# every packet (message texts, the connect packet's token), pymongo every command (users' password hashes),
# botocore and urllib3 signed requests. LOG_LEVEL=DEBUG is for Homer's own loggers.
LIBRARY_LOG_FLOORS = {
    "engineio": logging.WARNING,
    "socketio": logging.WARNING,
    "pymongo": logging.INFO,
    "botocore": logging.INFO,
    "aiobotocore": logging.INFO,
    "urllib3": logging.INFO,
    # aiohttp's own access log writes the raw path and query (a ?token=); handlers.access replaces it.
    "aiohttp.access": logging.WARNING,
}

REDACTED = "[redacted]"
# Keys whose values are never written, at any depth of a record's fields (matched case-insensitively, as a
# part of the key: "new_password", "Authorization", "metrics_token").
_SENSITIVE_KEY = re.compile(r"password|passwd|secret|token|authorization|cookie|api_key|signature", re.I)
# Secrets written inside text (a message, an exception): JWTs, bearer credentials, ?token= query values.
_SENSITIVE_TEXT = re.compile(
    r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]+"
    r"|(?<=[?&]token=)[^&\s'\"]+"
)
_STRUCTURAL_KEYS = frozenset({"event", "level", "logger", "timestamp", "request_id", "user_id"})


def new_request_id() -> str:
    """32 hex digits, as a uuid4's. An id needs to be unique, not unpredictable: the random module's
    generator (seeded from the OS) makes one in well under a microsecond, where uuid4's read of os.urandom
    took ~5 µs, paid by every Socket.IO event."""
    return f"{random.getrandbits(128):032x}"


def accepted_request_id(value: str | None) -> str | None:
    """``value`` when it is an id worth keeping (see _REQUEST_ID_FORMAT), else None."""
    if value is None or _REQUEST_ID_FORMAT.fullmatch(value) is None:
        return None
    return value


@contextlib.contextmanager
def request_context(request_id: str, user_id: str | None = None) -> Iterator[None]:
    """Bind the request (or socket event) id, and the user when known, to every record logged inside."""
    id_token = _request_id.set(request_id)
    user_token = _user_id.set(user_id)
    try:
        yield
    finally:
        _user_id.reset(user_token)
        _request_id.reset(id_token)


def bind_user(user_id: str) -> None:
    """The caller of the current request is now known (set until its request_context ends)."""
    _user_id.set(user_id)


def current_user_id() -> str | None:
    return _user_id.get()


def _drop_formatting_leftovers(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """``message`` and ``asctime`` are set on a record by whichever handler formatted it first (a test's
    capture): they are never extras (logging refuses them there), and ``event`` already has the text."""
    event_dict.pop("message", None)
    event_dict.pop("asctime", None)
    return event_dict


def _add_request_context(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    request_id = _request_id.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
        user_id = _user_id.get()
        if user_id is not None:
            event_dict.setdefault("user_id", user_id)
    return event_dict


def _scrub(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return _SENSITIVE_TEXT.sub(REDACTED, value) if value else value
    if depth >= 8:
        return value
    if isinstance(value, Mapping):
        return {
            key: REDACTED if isinstance(key, str) and _SENSITIVE_KEY.search(key) else _scrub(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item, depth + 1) for item in value]
    return value


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Defence in depth: no code logs a password or a token on purpose, and this removes one that got in
    anyway (a field named like a secret, a JWT or bearer credential inside a message or an exception)."""
    for key, value in event_dict.items():
        if key not in _STRUCTURAL_KEYS and _SENSITIVE_KEY.search(key):
            event_dict[key] = REDACTED
        elif isinstance(value, str | Mapping | list | tuple):
            event_dict[key] = _scrub(value)
    return event_dict


def _json_serializer(obj: Any, **_: Any) -> str:
    """orjson, with str() for what it does not know; the json module for what it refuses (huge integers)."""
    try:
        return orjson.dumps(obj, default=str).decode()
    except TypeError:
        return json.dumps(obj, default=str, separators=(",", ":"))


def log_formatter(*, as_json: bool, colors: bool = False) -> logging.Formatter:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_json_serializer)
        if as_json
        # plain_traceback: never a formatter that prints local variables (they can hold a password).
        else structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=structlog.dev.plain_traceback)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            _drop_formatting_leftovers,
            _add_request_context,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # The traceback as text before redaction, so what it quotes is scrubbed too.
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
    )


class _HomerHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler configure_logging installs; a second call replaces it rather than adding another."""


class _StderrHandler(_HomerHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes, as logging's own last-resort handler does
    (a test harness swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> logging.Handler:
    """Send every logger's records through one handler on ``stream`` (standard error), at LOG_LEVEL, in
    LOG_FORMAT. Called once per process, by the CLI; returns the handler it installed."""
    handler = _HomerHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(log_formatter(as_json=settings.logs_as_json, colors=handler.stream.isatty()))
    root = logging.getLogger()
    for earlier in [h for h in root.handlers if isinstance(h, _HomerHandler)]:
        root.removeHandler(earlier)
    root.addHandler(handler)
    level = logging.getLevelName(settings.log_level)
    root.setLevel(level)
    for name, floor in LIBRARY_LOG_FLOORS.items():
        logging.getLogger(name).setLevel(max(level, floor))
    return handler
