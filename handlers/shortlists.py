"""/api/shortlists: a user's saved listings (add is idempotent; counts stay exact)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from handlers.common import current_user, json_response, parse_body, parse_query
from handlers.contract import Access, operation
from handlers.paging import ListPage
from homer_rt.appkeys import SHORTLISTS
from homer_rt.services.shortlists import (
    MAX_NOTES_CHARS,
    ShortlistAddResponse,
    ShortlistPage,
    ShortlistRemovedResponse,
    ShortlistView,
)

routes = web.RouteTableDef()


class ShortlistAdd(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    property_id: str = Field(min_length=1, max_length=64)
    notes: str | None = Field(default=None, max_length=MAX_NOTES_CHARS)


class ShortlistNotes(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    notes: str | None = Field(max_length=MAX_NOTES_CHARS)


@routes.post("/api/shortlists")
@operation(
    summary="Shortlist a listing",
    tags="shortlists",
    access=Access.USER,
    body=ShortlistAdd,
    status=201,
    response=ShortlistAddResponse,
    responses={200: ShortlistAddResponse},  # already shortlisted
    # 404: no such listing, or one you may not see
    errors=(404, 413),
    description="Idempotent: a listing already in your shortlist is answered 200 with the same body and "
    "`created: false` (its notes replaced when the body has new ones).",
)
async def add_shortlist(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body(request, ShortlistAdd)
    service = request.app[SHORTLISTS]
    entry, created = await service.add(user=user, property_id=body.property_id, notes=body.notes)
    view = await service.view_one(entry)
    message = "Added to shortlist" if created else "Already in your shortlist"
    added: ShortlistAddResponse = {**view, "created": created, "message": message}
    return json_response(added, status=201 if created else 200)


@routes.get("/api/shortlists")
@operation(
    summary="Your shortlist",
    tags="shortlists",
    access=Access.USER,
    query=ListPage,
    response=ShortlistPage,
    description="Newest first; `property` is null for a listing that no longer exists.",
)
async def list_shortlists(request: web.Request) -> web.Response:
    user = await current_user(request)
    page = parse_query(request, ListPage)
    entries, total = await request.app[SHORTLISTS].list_for(user_id=user.id, page=page.page, limit=page.limit)
    found: ShortlistPage = {
        "shortlists": entries,
        "total_count": total,
        "page": page.page,
        "has_more": page.page * page.limit < total,
    }
    return json_response(found)


@routes.put("/api/shortlists/{property_id}")
@operation(
    summary="Change your notes on a shortlisted listing",
    tags="shortlists",
    access=Access.USER,
    body=ShortlistNotes,
    response=ShortlistView,
    errors=(404, 413),
)
async def update_shortlist(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body(request, ShortlistNotes)
    service = request.app[SHORTLISTS]
    entry = await service.update_notes(
        user_id=user.id, property_id=request.match_info["property_id"], notes=body.notes
    )
    return json_response(await service.view_one(entry))


@routes.delete("/api/shortlists/{property_id}")
@operation(
    summary="Remove a listing from your shortlist",
    tags="shortlists",
    access=Access.USER,
    response=ShortlistRemovedResponse,
    errors=(404,),
)
async def delete_shortlist(request: web.Request) -> web.Response:
    user = await current_user(request)
    await request.app[SHORTLISTS].remove(user_id=user.id, property_id=request.match_info["property_id"])
    removed: ShortlistRemovedResponse = {"message": "Removed from shortlist"}
    return json_response(removed)
