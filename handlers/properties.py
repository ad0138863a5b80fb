"""/api/properties: create, search, lifestyle search, the owner's listings, detail, edit, delete, images,
analytics. The fixed paths are declared before /{property_id} so it never shadows them."""

from __future__ import annotations

from contextlib import aclosing

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from handlers.common import (
    client_address,
    current_user,
    json_response,
    optional_user,
    parse_body,
    parse_body_or_query,
    parse_query,
)
from handlers.files import form_parts
from handlers.paging import ListPage
from homer_rt.appkeys import PROPERTIES
from homer_rt.services.properties import LifestyleQuery, PropertyCreate, PropertyUpdate, SearchQuery

routes = web.RouteTableDef()

IMAGE_FIELDS = ("files", "files[]", "file", "images", "image")


class ImageRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    image_url: str = Field(min_length=1, max_length=500)


@routes.post("/api/properties/create")
async def create_property(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body(request, PropertyCreate)
    listing = await request.app[PROPERTIES].create(owner=user, data=body)
    return json_response({"property_id": listing.id, "property": listing.api_view()})


@routes.get("/api/properties/search")
async def search_properties(request: web.Request) -> web.Response:
    query = parse_query(request, SearchQuery)
    found = await request.app[PROPERTIES].search(query=query)
    return json_response(
        {
            "properties": [p.public_view() for p in found.properties],
            "total_count": found.total_count,
            "page": found.page,
            "has_more": found.has_more,
        }
    )


@routes.get("/api/properties/lifestyle-search")
async def lifestyle_search(request: web.Request) -> web.Response:
    user = await current_user(request)
    query = parse_query(request, LifestyleQuery)
    listings, total = await request.app[PROPERTIES].lifestyle_search(user=user, query=query)
    return json_response({"properties": [p.public_view() for p in listings], "total_count": total})


@routes.get("/api/properties/my-properties")
async def my_properties(request: web.Request) -> web.Response:
    user = await current_user(request)
    page = parse_query(request, ListPage)
    listings = await request.app[PROPERTIES].my_properties(owner_id=user.id, page=page.page, limit=page.limit)
    return json_response([p.api_view() for p in listings])


@routes.get("/api/properties/{property_id}")
async def property_detail(request: web.Request) -> web.Response:
    viewer = await optional_user(request)
    listing = await request.app[PROPERTIES].view(
        property_id=request.match_info["property_id"], viewer=viewer, viewer_address=client_address(request)
    )
    # Analytics are the owner's (GET .../analytics, my-properties); admins read them on the admin routes.
    owner_looking = viewer is not None and viewer.id == listing.owner_id
    return json_response(listing.api_view() if owner_looking else listing.public_view())


@routes.put("/api/properties/{property_id}")
async def update_property(request: web.Request) -> web.Response:
    user = await current_user(request)
    changes = await parse_body(request, PropertyUpdate)
    listing = await request.app[PROPERTIES].update(
        property_id=request.match_info["property_id"], user=user, changes=changes
    )
    return json_response(listing.api_view())


@routes.delete("/api/properties/{property_id}")
async def delete_property(request: web.Request) -> web.Response:
    user = await current_user(request)
    await request.app[PROPERTIES].delete(property_id=request.match_info["property_id"], user=user)
    return json_response({"message": "Property deleted successfully"})


@routes.post("/api/properties/{property_id}/upload-images")
async def upload_images(request: web.Request) -> web.Response:
    user = await current_user(request)
    async with aclosing(form_parts(request, fields=IMAGE_FIELDS)) as parts:
        urls = await request.app[PROPERTIES].add_images(
            property_id=request.match_info["property_id"], user=user, parts=parts
        )
    return json_response({"image_urls": urls})


@routes.delete("/api/properties/{property_id}/images")
async def delete_image(request: web.Request) -> web.Response:
    user = await current_user(request)
    ref = await parse_body_or_query(request, ImageRef)
    listing = await request.app[PROPERTIES].remove_image(
        property_id=request.match_info["property_id"], user=user, image_url=ref.image_url
    )
    return json_response(
        {"message": "Image removed", "image_url": ref.image_url, "images": list(listing.images)}
    )


@routes.get("/api/properties/{property_id}/analytics")
async def property_analytics(request: web.Request) -> web.Response:
    user = await current_user(request)
    analytics = await request.app[PROPERTIES].analytics(
        property_id=request.match_info["property_id"], user=user
    )
    return json_response(analytics)
