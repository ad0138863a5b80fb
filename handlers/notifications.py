"""/api/notifications: the caller's own notifications, newest first."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from documents.notification import NotificationView
from handlers.common import MessageResponse, current_user, json_response, parse_query
from handlers.contract import Access, operation
from homer_rt.appkeys import NOTIFICATIONS
from homer_rt.services.notifications import NotificationPage, ReadAllResponse, UnreadCountResponse

routes = web.RouteTableDef()


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    page: int = Field(default=1, ge=1, le=10_000)
    limit: int = Field(default=20, ge=1, le=100)
    unread_only: bool = False


@routes.get("/api/notifications")
@operation(
    summary="Your notifications, newest first",
    tags="notifications",
    access=Access.USER,
    query=ListQuery,
    response=NotificationPage,
)
async def list_notifications(request: web.Request) -> web.Response:
    user = await current_user(request)
    query = parse_query(request, ListQuery)
    page = await request.app[NOTIFICATIONS].list_for(
        user_id=user.id, page=query.page, limit=query.limit, unread_only=query.unread_only
    )
    return json_response(page)


# Registered before the /{notification_id} routes so "unread-count" is never taken for an id.
@routes.get("/api/notifications/unread-count")
@operation(
    summary="How many of your notifications are unread",
    tags="notifications",
    access=Access.USER,
    response=UnreadCountResponse,
)
async def unread_count(request: web.Request) -> web.Response:
    user = await current_user(request)
    answer: UnreadCountResponse = {
        "unread_count": await request.app[NOTIFICATIONS].unread_count(user_id=user.id)
    }
    return json_response(answer)


@routes.post("/api/notifications/read-all")
@operation(
    summary="Mark all your notifications read",
    tags="notifications",
    access=Access.USER,
    response=ReadAllResponse,
)
async def read_all(request: web.Request) -> web.Response:
    user = await current_user(request)
    notifications = request.app[NOTIFICATIONS]
    updated = await notifications.mark_all_read(user_id=user.id)
    answer: ReadAllResponse = {
        "updated": updated,
        "unread_count": await notifications.unread_count(user_id=user.id),
    }
    return json_response(answer)


@routes.patch("/api/notifications/{notification_id}/read")
@operation(
    summary="Mark one of your notifications read",
    tags="notifications",
    access=Access.USER,
    response=NotificationView,
    errors=(404,),
)
async def mark_read(request: web.Request) -> web.Response:
    user = await current_user(request)
    notification = await request.app[NOTIFICATIONS].mark_read(
        user_id=user.id, notification_id=request.match_info["notification_id"]
    )
    return json_response(notification.api_view())


@routes.delete("/api/notifications/{notification_id}")
@operation(
    summary="Delete one of your notifications",
    tags="notifications",
    access=Access.USER,
    response=MessageResponse,
    errors=(404,),
)
async def delete(request: web.Request) -> web.Response:
    user = await current_user(request)
    await request.app[NOTIFICATIONS].delete(
        user_id=user.id, notification_id=request.match_info["notification_id"]
    )
    return json_response({"message": "Notification deleted"})
