"""/api/notifications: the caller's own notifications, newest first."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from handlers.common import current_user, json_response, parse_query
from homer_rt.appkeys import NOTIFICATIONS

routes = web.RouteTableDef()


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    page: int = Field(default=1, ge=1, le=10_000)
    limit: int = Field(default=20, ge=1, le=100)
    unread_only: bool = False


@routes.get("/api/notifications")
async def list_notifications(request: web.Request) -> web.Response:
    user = await current_user(request)
    query = parse_query(request, ListQuery)
    page = await request.app[NOTIFICATIONS].list_for(
        user_id=user.id, page=query.page, limit=query.limit, unread_only=query.unread_only
    )
    return json_response(page)


# Registered before the /{notification_id} routes so "unread-count" is never taken for an id.
@routes.get("/api/notifications/unread-count")
async def unread_count(request: web.Request) -> web.Response:
    user = await current_user(request)
    return json_response({"unread_count": await request.app[NOTIFICATIONS].unread_count(user_id=user.id)})


@routes.post("/api/notifications/read-all")
async def read_all(request: web.Request) -> web.Response:
    user = await current_user(request)
    notifications = request.app[NOTIFICATIONS]
    updated = await notifications.mark_all_read(user_id=user.id)
    return json_response(
        {"updated": updated, "unread_count": await notifications.unread_count(user_id=user.id)}
    )


@routes.patch("/api/notifications/{notification_id}/read")
async def mark_read(request: web.Request) -> web.Response:
    user = await current_user(request)
    notification = await request.app[NOTIFICATIONS].mark_read(
        user_id=user.id, notification_id=request.match_info["notification_id"]
    )
    return json_response(notification.api_view())


@routes.delete("/api/notifications/{notification_id}")
async def delete(request: web.Request) -> web.Response:
    user = await current_user(request)
    await request.app[NOTIFICATIONS].delete(
        user_id=user.id, notification_id=request.match_info["notification_id"]
    )
    return json_response({"message": "Notification deleted"})
