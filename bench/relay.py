"""The baseline: a bare python-socketio relay as the library ships it, speaking Homer's /chat events.

No store, no auth check, no limits, no unread counters: ``connect`` takes any token (a JWT's ``sub`` or the
token itself is the user id), ``join_chat`` remembers the caller as a participant, ``send_message`` acks a
message-shaped dict with a per-chat ``seq`` and delivers ``message {chat_id, message}`` to the other
participants' ``user:<id>`` rooms, as Homer does. The server is python-socketio's defaults on aiohttp,
so the WebSocket accepts permessage-deflate when the client offers it (``--no-deflate`` declines it the
way Homer does, for a like-for-like reference).

    python -m bench.relay --port 8100
"""

from __future__ import annotations

import argparse
import base64
import binascii
import itertools
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import socketio
from aiohttp import hdrs, web

NAMESPACE = "/chat"


def user_from_token(token: Any) -> str:
    if not isinstance(token, str) or not token:
        return "anonymous"
    parts = token.split(".")
    if len(parts) == 3:
        try:
            padded = parts[1] + "=" * (-len(parts[1]) % 4)
            claims = json.loads(base64.urlsafe_b64decode(padded))
            return str(claims.get("sub") or claims.get("user_id") or token)
        except (ValueError, binascii.Error):
            pass
    return token


class RelayChat(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(NAMESPACE)
        self.participants: dict[str, set[str]] = {}
        self.seqs: dict[str, itertools.count[int]] = {}

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        user_id = user_from_token(auth.get("token") if isinstance(auth, dict) else None)
        await self.save_session(sid, {"user_id": user_id})
        await self.enter_room(sid, f"user:{user_id}")

    async def on_join_chat(self, sid: str, data: Any) -> dict[str, Any]:
        chat_id = str(data["chat_id"])
        user_id = (await self.get_session(sid))["user_id"]
        self.participants.setdefault(chat_id, set()).add(user_id)
        return {"ok": True, "data": {"chat": {"chat_id": chat_id}, "messages": []}}

    async def on_leave_chat(self, sid: str, data: Any) -> dict[str, Any]:
        return {"ok": True, "data": None}

    async def on_send_message(self, sid: str, data: Any) -> dict[str, Any]:
        chat_id = str(data["chat_id"])
        user_id = (await self.get_session(sid))["user_id"]
        seq = next(self.seqs.setdefault(chat_id, itertools.count(1)))
        message = {
            "message_id": str(uuid.uuid4()),
            "sender_id": user_id,
            "sender_type": "renter",
            "message": data["message"],
            "timestamp": datetime.now(UTC).isoformat(),
            "is_read": False,
            "attachments": data.get("attachments") or [],
            "seq": seq,
        }
        for other in self.participants.get(chat_id, ()):
            if other != user_id:
                await self.emit("message", {"chat_id": chat_id, "message": message}, room=f"user:{other}")
        return {"ok": True, "data": message}


@web.middleware
async def _decline_deflate(request: web.Request, handler: Any) -> web.StreamResponse:
    if hdrs.SEC_WEBSOCKET_EXTENSIONS in request.headers:
        headers = request.headers.copy()
        del headers[hdrs.SEC_WEBSOCKET_EXTENSIONS]
        request = request.clone(headers=headers)
    response: web.StreamResponse = await handler(request)
    return response


def build_app(*, deflate: bool) -> web.Application:
    app = web.Application(middlewares=[] if deflate else [_decline_deflate])
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
    sio.register_namespace(RelayChat())
    sio.attach(app)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-deflate", action="store_true", help="decline permessage-deflate, as Homer does")
    args = parser.parse_args()
    web.run_app(build_app(deflate=not args.no_deflate), host=args.host, port=args.port, access_log=None)


if __name__ == "__main__":
    main()
