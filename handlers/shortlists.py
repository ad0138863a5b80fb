"""/api/shortlists: a user's saved listings (add is idempotent; counts stay exact)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from handlers.common import current_user, json_response, parse_body, parse_query
from handlers.paging import ListPage
from homer_rt.appkeys import SHORTLISTS
from homer_rt.services.shortlists import MAX_NOTES_CHARS

routes = web.RouteTableDef()


class ShortlistAdd(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    property_id: str = Field(min_length=1, max_length=64)
    notes: str | None = Field(default=None, max_length=MAX_NOTES_CHARS)


class ShortlistNotes(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    notes: str | None = Field(max_length=MAX_NOTES_CHARS)


@routes.post("/api/shortlists")
async def add_shortlist(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body(request, ShortlistAdd)
    service = request.app[SHORTLISTS]
    entry, created = await service.add(user=user, property_id=body.property_id, notes=body.notes)
    view = await service.view_one(entry)
    message = "Added to shortlist" if created else "Already in your shortlist"
    return json_response({**view, "created": created, "message": message}, status=201 if created else 200)


@routes.get("/api/shortlists")
async def list_shortlists(request: web.Request) -> web.Response:
    user = await current_user(request)
    page = parse_query(request, ListPage)
    entries, total = await request.app[SHORTLISTS].list_for(user_id=user.id, page=page.page, limit=page.limit)
    return json_response(
        {
            "shortlists": entries,
            "total_count": total,
            "page": page.page,
            "has_more": page.page * page.limit < total,
        }
    )


@routes.put("/api/shortlists/{property_id}")
async def update_shortlist(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body(request, ShortlistNotes)
    service = request.app[SHORTLISTS]
    entry = await service.update_notes(
        user_id=user.id, property_id=request.match_info["property_id"], notes=body.notes
    )
    return json_response(await service.view_one(entry))


@routes.delete("/api/shortlists/{property_id}")
async def delete_shortlist(request: web.Request) -> web.Response:
    user = await current_user(request)
    await request.app[SHORTLISTS].remove(user_id=user.id, property_id=request.match_info["property_id"])
    return json_response({"message": "Removed from shortlist"})
