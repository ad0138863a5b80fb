"""/api/chats: the spec's chat routes. Sends and reads go through the same ChatService calls as /chat
over Socket.IO, so a message sent here is delivered live and a message sent live is listed here."""

from __future__ import annotations

from aiohttp import web

from documents.chat import ChatView
from handlers.common import current_user, json_response, parse_body, parse_body_or_query, parse_query
from handlers.contract import Access, Upload, operation
from handlers.files import form_parts
from handlers.paging import ListPage
from homer_rt.appkeys import CHATS, UPLOADS
from homer_rt.errors import BadRequest
from homer_rt.services.chats import CHAT_UPLOAD_AREA
from homer_rt.services.chats.commands import InitiateChat, OpenChat, ReportChat, SendMessage
from homer_rt.services.chats.views import (
    ChatAttachmentView,
    ChatPageView,
    ChatSummaryView,
    InitiateResponse,
    ReportReceived,
    SendMessageResponse,
    UnreadSummary,
)

routes = web.RouteTableDef()
TAG = "chats"


@routes.post("/api/chats/initiate")
@operation(
    summary="Start a chat about a listing (renters)",
    description="Finds the renter's chat about the listing, or creates it, which takes a free contact unless "
    "the renter is premium. `created` is true when this call stored the first message.",
    tags=TAG,
    access=Access.USER,
    body=InitiateChat,
    body_in_query=True,
    response=InitiateResponse,
    # 400: the caller's own listing, or one not taking enquiries; 403: not a renter, or the free plan's
    # contacts are used up; 404: no such listing, or one hidden from the caller
    errors=(400, 403, 404),
)
async def initiate(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body_or_query(request, InitiateChat)
    chat, created = await request.app[CHATS].initiate(
        user=user, property_id=body.property_id, initial_message=body.initial_message
    )
    answer: InitiateResponse = {"chat_id": chat.id, "created": created}
    return json_response(answer)


@routes.get("/api/chats")
@operation(
    summary="The caller's active chats, most recent first",
    tags=TAG,
    access=Access.USER,
    query=ListPage,
    response=list[ChatSummaryView],
)
async def list_chats(request: web.Request) -> web.Response:
    user = await current_user(request)
    page = parse_query(request, ListPage)
    return json_response(
        await request.app[CHATS].list_chats(user_id=user.id, page=page.page, limit=page.limit)
    )


# Registered before /api/chats/{chat_id}, which would otherwise take "unread-count" for a chat id.
@routes.get("/api/chats/unread-count")
@operation(
    summary="Unread messages, in total and per chat",
    tags=TAG,
    access=Access.USER,
    response=UnreadSummary,
)
async def unread_count(request: web.Request) -> web.Response:
    user = await current_user(request)
    summary = await request.app[CHATS].unread_summary(user_id=user.id)
    return json_response(summary)


@routes.get("/api/chats/{chat_id}")
@operation(
    summary="Open a chat: a page of its messages",
    description="Without `before_seq`, the latest page, which marks the other side's messages read.",
    tags=TAG,
    access=Access.USER,
    query=OpenChat,
    response=ChatPageView,
    errors=(404,),  # no such chat, or the caller is not in it (the same answer)
)
async def chat_detail(request: web.Request) -> web.Response:
    user = await current_user(request)
    query = parse_query(request, OpenChat)
    chats = request.app[CHATS]
    page = await chats.open_chat(
        chat_id=request.match_info["chat_id"], user_id=user.id, before_seq=query.before_seq, limit=query.limit
    )
    return json_response(await chats.page_view(page=page, viewer_id=user.id))


@routes.post("/api/chats/{chat_id}/messages")
@operation(
    summary="Send a message",
    description="Delivered live to both participants' other connections. A retry with the same "
    "`client_msg_id` returns the stored message instead of sending it twice.",
    tags=TAG,
    access=Access.USER,
    body=SendMessage,
    body_in_query=True,
    response=SendMessageResponse,
    # 400: an attachment not uploaded to this chat by the caller; 403: the chat is blocked or archived;
    # 404: no such chat, or the caller is not in it; 429: too many messages
    errors=(400, 403, 404, 429),
)
async def send_message(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body_or_query(request, SendMessage)
    result = await request.app[CHATS].send(
        chat_id=request.match_info["chat_id"],
        user_id=user.id,
        message=body.message,
        attachments=body.attachments,
        client_msg_id=body.client_msg_id,
    )
    view = result.view()
    answer: SendMessageResponse = {"message_id": view["message_id"], "seq": view["seq"], "message": view}
    return json_response(answer)


@routes.post("/api/chats/{chat_id}/block")
@operation(
    summary="Block a chat: no more messages either way",
    tags=TAG,
    access=Access.USER,
    response=ChatView,
    errors=(404,),  # no such chat, or the caller is not in it
)
async def block(request: web.Request) -> web.Response:
    user = await current_user(request)
    chat = await request.app[CHATS].block(chat_id=request.match_info["chat_id"], user_id=user.id)
    return json_response(chat.api_view(viewer_id=user.id))


@routes.post("/api/chats/{chat_id}/unblock")
@operation(
    summary="Unblock a chat the caller blocked",
    tags=TAG,
    access=Access.USER,
    response=ChatView,
    errors=(403, 404),  # 403: blocked by a moderator or by the other participant
)
async def unblock(request: web.Request) -> web.Response:
    user = await current_user(request)
    chat = await request.app[CHATS].unblock(chat_id=request.match_info["chat_id"], user_id=user.id)
    return json_response(chat.api_view(viewer_id=user.id))


@routes.post("/api/chats/{chat_id}/report")
@operation(
    summary="Report a chat to Homer's moderators",
    description="One open report per reporter and chat: another while it is open answers 409.",
    tags=TAG,
    access=Access.USER,
    body=ReportChat,
    response=ReportReceived,
    errors=(404, 409),  # 409: the caller's earlier report of this chat is still open
)
async def report(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body(request, ReportChat)
    stored = await request.app[CHATS].report(
        chat_id=request.match_info["chat_id"], user_id=user.id, reason=body.reason
    )
    answer: ReportReceived = {
        "report_id": stored.id,
        "status": stored.status.value,
        "message": "Report received; our team will review it",
    }
    return json_response(answer)


@routes.post("/api/chats/{chat_id}/attachments")
@operation(
    summary="Upload a file to send in a message of this chat",
    tags=TAG,
    access=Access.USER,
    upload=Upload(file_fields=("file",), max_files=1),
    response=ChatAttachmentView,
    # 400: no file, several, an empty one or a malformed form; 403: the chat takes no messages; 404: no such
    # chat, or the caller is not in it; 413: too large, or past the caller's storage quota; 415: not an
    # allowed type; 429: too many uploads this hour; 502: storage unavailable
    errors=(400, 403, 404, 413, 415, 429, 502),
)
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
