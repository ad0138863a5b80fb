"""/api/chats: the spec's chat routes. Sends and reads go through the same ChatService calls as /chat
over Socket.IO, so a message sent here is delivered live and a message sent live is listed here."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from handlers.common import current_user, json_response, parse_body, parse_body_or_query, parse_query
from handlers.files import form_parts
from handlers.paging import ListPage
from homer_rt.appkeys import CHATS, UPLOADS
from homer_rt.errors import BadRequest
from homer_rt.services.chats import CHAT_UPLOAD_AREA

routes = web.RouteTableDef()


class InitiateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    property_id: str = Field(min_length=1, max_length=64)
    initial_message: str


class SendBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message: str = ""
    attachments: list[str] = Field(default_factory=list, max_length=50)
    client_msg_id: str | None = Field(default=None, min_length=1, max_length=100)


class MessagePageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    before_seq: int | None = Field(default=None, ge=1)
    limit: int | None = Field(default=None, ge=1, le=200)


class ReportBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    reason: str = Field(min_length=3, max_length=2000)


@routes.post("/api/chats/initiate")
async def initiate(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body_or_query(request, InitiateBody)
    chat, created = await request.app[CHATS].initiate(
        user=user, property_id=body.property_id, initial_message=body.initial_message
    )
    return json_response({"chat_id": chat.id, "created": created})


@routes.get("/api/chats")
async def list_chats(request: web.Request) -> web.Response:
    user = await current_user(request)
    page = parse_query(request, ListPage)
    return json_response(
        await request.app[CHATS].list_chats(user_id=user.id, page=page.page, limit=page.limit)
    )


# Registered before /api/chats/{chat_id}, which would otherwise take "unread-count" for a chat id.
@routes.get("/api/chats/unread-count")
async def unread_count(request: web.Request) -> web.Response:
    user = await current_user(request)
    summary = await request.app[CHATS].unread_summary(user_id=user.id)
    return json_response(summary)


@routes.get("/api/chats/{chat_id}")
async def chat_detail(request: web.Request) -> web.Response:
    user = await current_user(request)
    query = parse_query(request, MessagePageQuery)
    chats = request.app[CHATS]
    page = await chats.open_chat(
        chat_id=request.match_info["chat_id"], user_id=user.id, before_seq=query.before_seq, limit=query.limit
    )
    return json_response(await chats.page_view(page=page, viewer_id=user.id))


@routes.post("/api/chats/{chat_id}/messages")
async def send_message(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body_or_query(request, SendBody)
    result = await request.app[CHATS].send(
        chat_id=request.match_info["chat_id"],
        user_id=user.id,
        message=body.message,
        attachments=body.attachments,
        client_msg_id=body.client_msg_id,
    )
    view = result.view()
    return json_response({"message_id": view["message_id"], "seq": view["seq"], "message": view})


@routes.post("/api/chats/{chat_id}/block")
async def block(request: web.Request) -> web.Response:
    user = await current_user(request)
    chat = await request.app[CHATS].block(chat_id=request.match_info["chat_id"], user_id=user.id)
    return json_response(chat.api_view(viewer_id=user.id))


@routes.post("/api/chats/{chat_id}/unblock")
async def unblock(request: web.Request) -> web.Response:
    user = await current_user(request)
    chat = await request.app[CHATS].unblock(chat_id=request.match_info["chat_id"], user_id=user.id)
    return json_response(chat.api_view(viewer_id=user.id))


@routes.post("/api/chats/{chat_id}/report")
async def report(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body(request, ReportBody)
    stored = await request.app[CHATS].report(
        chat_id=request.match_info["chat_id"], user_id=user.id, reason=body.reason
    )
    return json_response(
        {
            "report_id": stored.id,
            "status": stored.status.value,
            "message": "Report received; our team will review it",
        }
    )


@routes.post("/api/chats/{chat_id}/attachments")
async def upload_attachment(request: web.Request) -> web.Response:
    """One file (multipart field ``file``) for this chat; send its ``file_url`` in a message's attachments."""
    user = await current_user(request)
    chats = request.app[CHATS]
    chat = await chats.get_for_participant(chat_id=request.match_info["chat_id"], user_id=user.id)
    chats.check_sendable(chat)  # a file for a chat that takes no messages could never be sent
    stored = None
    async for part in form_parts(request, fields=("file",)):
        if stored is not None:
            raise BadRequest("Send one file per request", code="one_file_only")
        stored = await request.app[UPLOADS].save(
            area=CHAT_UPLOAD_AREA,
            owner_segment=chat.id,
            uploader_id=user.id,
            part=part,
            kind="document",
            referenced=False,  # until a message carries it
        )
    if stored is None:
        raise BadRequest("No file in the request (multipart field 'file')", code="file_required")
    return json_response(stored.api_view())
