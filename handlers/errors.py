"""One middleware turns every failure into JSON with a ``detail`` (what the spec's frontend reads)."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from handlers.common import bearer_token, json_response
from homer_rt.errors import DomainError, RateLimited, ServiceUnavailable

log = logging.getLogger(__name__)

#: The longest request line (method, path and query string) the server reads. aiohttp's HTTP parser answers a
#: longer one itself, with a plain-text 400, before any middleware runs, so the JSON error never reaches the
#: client; its default, 8190 bytes, is shorter than requests the API accepts: the spec's POSTs take their
#: fields in the query string too, and a character takes up to 12 bytes percent-encoded (a reject ``reason``
#: at its 1,000 characters may be 12,000 bytes, a chat message at its 4,000 characters 48,000). Up to this
#: limit a request reaches the handlers, which answer it as documented (a 422 for a value past its limit).
#: ``homer-rt serve`` passes it to aiohttp (``max_line_size``); tests/test_request_line.py checks that every
#: operation's longest documented query fits.
REQUEST_LINE_MAX_BYTES = 64 * 1024


def error_response(status: int, detail: str, code: str, **extra: object) -> web.Response:
    return json_response({"detail": detail, "error": {"code": code, **extra}}, status=status)


def render_domain_error(error: DomainError) -> web.Response:
    response = error_response(error.status, error.detail, error.code, **error.extra)
    if isinstance(error, RateLimited | ServiceUnavailable) and error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


# 401s where the caller's credentials, not a token, were refused (a wrong password at login).
_NOT_ABOUT_A_TOKEN = frozenset({"invalid_credentials"})


def challenge(request: web.Request, error_code: str) -> str:
    """The ``WWW-Authenticate`` a 401 carries (RFC 6750): plain ``Bearer`` asks for a token; when one was
    sent and refused (malformed, expired, revoked), ``error="invalid_token"`` tells the client to get a new
    one rather than retry."""
    if bearer_token(request) is not None and error_code not in _NOT_ABOUT_A_TOKEN:
        return 'Bearer error="invalid_token"'
    return "Bearer"


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as error:
        response = render_domain_error(error)
        if response.status == 401:
            response.headers["WWW-Authenticate"] = challenge(request, error.code)
        return response
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        detail = {
            404: "Not found",
            405: f"Method {request.method} is not allowed here",
            413: "Request body is too large",
        }.get(exc.status, exc.reason)
        response = error_response(exc.status, detail, _HTTP_CODES.get(exc.status, "http_error"))
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in exc.headers:
                response.headers[header] = exc.headers[header]
        if response.status == 401 and "WWW-Authenticate" not in response.headers:
            response.headers["WWW-Authenticate"] = challenge(request, "unauthorized")
        return response
    except (ConnectionResetError, TimeoutError):
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, "Internal server error", "internal_error")
