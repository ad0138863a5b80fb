"""/api/properties: create, search, lifestyle search, the owner's listings, detail, edit, delete, images,
analytics. The fixed paths are declared before /{property_id} so it never shadows them."""

from __future__ import annotations

from contextlib import aclosing

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from documents.property import AnalyticsView, PropertyOwnerView, PropertyPublicView
from handlers.common import (
    client_address,
    current_user,
    json_response,
    optional_user,
    parse_body,
    parse_body_or_query,
    parse_query,
)
from handlers.contract import Access, Upload, operation
from handlers.files import form_parts
from handlers.paging import ListPage
from homer_rt.appkeys import PROPERTIES
from homer_rt.services.properties import LifestyleQuery, PropertyCreate, PropertyUpdate, SearchQuery
from homer_rt.services.properties.views import (
    CreatedPropertyResponse,
    ImageRemovedResponse,
    ImagesAddedResponse,
    LifestyleSearchResponse,
    PropertyDeletedResponse,
    SearchResponse,
)

routes = web.RouteTableDef()

IMAGE_FIELDS = ("files", "files[]", "file", "images", "image")


class ImageRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    image_url: str = Field(min_length=1, max_length=500)


@routes.post("/api/properties/create")
@operation(
    summary="Create a listing",
    tags="properties",
    access=Access.USER,
    body=PropertyCreate,
    response=CreatedPropertyResponse,
    # 403: the caller is not an owner; 409: the owner already has the most active listings one may have
    errors=(409, 413),
    description="Owners only; money in rupees. Images are added afterwards, with "
    "`POST /api/properties/{property_id}/upload-images`.",
)
async def create_property(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body(request, PropertyCreate)
    listing = await request.app[PROPERTIES].create(owner=user, data=body)
    created: CreatedPropertyResponse = {"property_id": listing.id, "property": listing.api_view()}
    return json_response(created)


@routes.get("/api/properties/search")
@operation(
    summary="Search listings",
    tags="properties",
    access=Access.PUBLIC,
    query=SearchQuery,
    response=SearchResponse,
    description="Active listings only, without their analytics. `city` and `location` (a locality) match "
    "a part of the name, any case; prices are rupees a month.",
)
async def search_properties(request: web.Request) -> web.Response:
    query = parse_query(request, SearchQuery)
    found = await request.app[PROPERTIES].search(query=query)
    page: SearchResponse = {
        "properties": [p.public_view() for p in found.properties],
        "total_count": found.total_count,
        "page": found.page,
        "has_more": found.has_more,
    }
    return json_response(page)


@routes.get("/api/properties/lifestyle-search")
@operation(
    summary="Search verified listings by lifestyle (premium)",
    tags="properties",
    access=Access.USER,
    query=LifestyleQuery,
    response=LifestyleSearchResponse,
    description="Premium renters only (403 for others). Verified, active listings with lifestyle data, "
    "cleanest air first.",
)
async def lifestyle_search(request: web.Request) -> web.Response:
    user = await current_user(request)
    query = parse_query(request, LifestyleQuery)
    listings, total = await request.app[PROPERTIES].lifestyle_search(user=user, query=query)
    found: LifestyleSearchResponse = {"properties": [p.public_view() for p in listings], "total_count": total}
    return json_response(found)


@routes.get("/api/properties/my-properties")
@operation(
    summary="Your own listings",
    tags="properties",
    access=Access.USER,
    query=ListPage,
    response=list[PropertyOwnerView],
    description="Newest first, with their analytics; deleted listings are left out.",
)
async def my_properties(request: web.Request) -> web.Response:
    user = await current_user(request)
    page = parse_query(request, ListPage)
    listings = await request.app[PROPERTIES].my_properties(owner_id=user.id, page=page.page, limit=page.limit)
    return json_response([p.api_view() for p in listings])


@routes.get("/api/properties/{property_id}")
@operation(
    summary="A listing",
    tags="properties",
    access=Access.OPTIONAL,
    response=PropertyOwnerView | PropertyPublicView,
    errors=(404,),
    description="Its owner sees it with its analytics; everyone else without, and only while it is active "
    "(a listing that is not is a 404 to them, as a missing one). A view by anyone but the owner counts once "
    "per viewer per day.",
)
async def property_detail(request: web.Request) -> web.Response:
    viewer = await optional_user(request)
    listing = await request.app[PROPERTIES].view(
        property_id=request.match_info["property_id"], viewer=viewer, viewer_address=client_address(request)
    )
    # Analytics are the owner's (GET .../analytics, my-properties); admins read them on the admin routes.
    owner_looking = viewer is not None and viewer.id == listing.owner_id
    return json_response(listing.api_view() if owner_looking else listing.public_view())


@routes.put("/api/properties/{property_id}")
@operation(
    summary="Change your listing",
    tags="properties",
    access=Access.USER,
    body=PropertyUpdate,
    response=PropertyOwnerView,
    # 403: not the owner's, or taken down by an admin; 409: relisting past the owner's active-listing limit,
    # or the listing changed under the edit
    errors=(404, 409, 413),
    description="Any subset of the listing's own fields; other fields in the body are ignored. `status` "
    "takes the listing off the market (`inactive`, `rented`) or back (`active`).",
)
async def update_property(request: web.Request) -> web.Response:
    user = await current_user(request)
    changes = await parse_body(request, PropertyUpdate)
    listing = await request.app[PROPERTIES].update(
        property_id=request.match_info["property_id"], user=user, changes=changes
    )
    return json_response(listing.api_view())


@routes.delete("/api/properties/{property_id}")
@operation(
    summary="Delete your listing",
    tags="properties",
    access=Access.USER,
    response=PropertyDeletedResponse,
    errors=(404,),
)
async def delete_property(request: web.Request) -> web.Response:
    user = await current_user(request)
    await request.app[PROPERTIES].delete(property_id=request.match_info["property_id"], user=user)
    deleted: PropertyDeletedResponse = {"message": "Property deleted successfully"}
    return json_response(deleted)


@routes.post("/api/properties/{property_id}/upload-images")
@operation(
    summary="Add images to your listing",
    tags="properties",
    access=Access.USER,
    upload=Upload(file_fields=IMAGE_FIELDS),
    response=ImagesAddedResponse,
    # 409: past the listing's image limit; 413/415/429/502: too large or over quota, not an image (by its
    # content), over the hourly upload count, storage failed
    errors=(400, 404, 409, 413, 415, 429, 502),
    description="JPEG, PNG or WebP, checked by content; any of the file fields may repeat. All or none: "
    "when one file is refused, none is added.",
)
async def upload_images(request: web.Request) -> web.Response:
    user = await current_user(request)
    async with aclosing(form_parts(request, fields=IMAGE_FIELDS)) as parts:
        urls = await request.app[PROPERTIES].add_images(
            property_id=request.match_info["property_id"], user=user, parts=parts
        )
    added: ImagesAddedResponse = {"image_urls": urls}
    return json_response(added)


@routes.delete("/api/properties/{property_id}/images")
@operation(
    summary="Remove an image from your listing",
    tags="properties",
    access=Access.USER,
    body=ImageRef,
    body_in_query=True,
    response=ImageRemovedResponse,
    errors=(404, 413),
)
async def delete_image(request: web.Request) -> web.Response:
    user = await current_user(request)
    ref = await parse_body_or_query(request, ImageRef)
    listing = await request.app[PROPERTIES].remove_image(
        property_id=request.match_info["property_id"], user=user, image_url=ref.image_url
    )
    removed: ImageRemovedResponse = {
        "message": "Image removed",
        "image_url": ref.image_url,
        "images": list(listing.images),
    }
    return json_response(removed)


@routes.get("/api/properties/{property_id}/analytics")
@operation(
    summary="Your listing's analytics",
    tags="properties",
    access=Access.USER,
    response=AnalyticsView,
    errors=(404,),
)
async def property_analytics(request: web.Request) -> web.Response:
    user = await current_user(request)
    analytics = await request.app[PROPERTIES].analytics(
        property_id=request.match_info["property_id"], user=user
    )
    return json_response(analytics)
