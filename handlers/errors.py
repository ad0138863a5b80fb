"""One middleware turns every failure into JSON with a ``detail`` (what the spec's frontend reads)."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from handlers.common import json_response
from homer_rt.errors import DomainError, RateLimited, ServiceUnavailable

log = logging.getLogger(__name__)


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


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as error:
        return render_domain_error(error)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        detail = {
            404: "Not found",
            405: f"Method {request.method} is not allowed here",
            413: "Request body is too large",
        }.get(exc.status, exc.reason)
        response = error_response(exc.status, detail, _HTTP_CODES.get(exc.status, "http_error"))
        for header in ("Allow", "Retry-After"):
            if header in exc.headers:
                response.headers[header] = exc.headers[header]
        return response
    except (ConnectionResetError, TimeoutError):
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, "Internal server error", "internal_error")
