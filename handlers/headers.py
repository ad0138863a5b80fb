"""Headers every response carries, set in one ``on_response_prepare`` signal.

A signal rather than a middleware: it runs for every response the app prepares, including the ones no
middleware sees returned (raised redirects, the router's 404 and 405, file and Socket.IO responses). It runs
after aiohttp has filled in its own defaults, so it can replace the ``Server`` header aiohttp sets.

Only responses aiohttp writes before any route is matched (a request too malformed to parse) keep aiohttp's
own ``Server`` header; behind the compose file's nginx, nginx's header replaces every upstream one.
"""

from __future__ import annotations

from aiohttp import web

from homer_rt.realtime import SOCKETIO_PATH

# No name and version of the server software: they only tell an attacker which advisories to try.
SERVER_NAME = "Homer"


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_NAME
    # Browsers must take the declared type at its word: an upload that looks like HTML is never run as HTML.
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.content_type == "application/json" or request.path == SOCKETIO_PATH:
        # API answers carry tokens and personal data, and so do Socket.IO's long-polling answers (chat
        # messages, as text/plain); none of them may sit in a browser's or proxy's cache. Public listing
        # searches too: one rule for every JSON answer is simpler to trust than exceptions. A handler that
        # chose its own caching keeps it.
        response.headers.setdefault("Cache-Control", "no-store")
