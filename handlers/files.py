"""GET /uploads/{area}/{owner}/{name}: stored files, after the area's access check.

Local disk streams the file; S3 redirects to a short-lived presigned URL. Paths that try to leave their
folder never reach storage: each segment must be a plain name (the upload service checks), and anything
with more or fewer segments does not match this route at all.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Collection

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import BadHttpMessage
from pydantic import BaseModel, Field

from handlers.common import optional_user
from handlers.contract import Access, operation
from homer_rt.appkeys import UPLOADS
from homer_rt.errors import BadRequest, Unauthorized
from homer_rt.services.chats import CHAT_UPLOAD_AREA
from homer_rt.services.uploads import PUBLIC_AREAS, VERIFICATION_AREA
from homer_rt.services.uploads.areas import SEGMENT_PATTERN
from storage.base import LocalTarget

routes = web.RouteTableDef()

MAX_FILES_PER_REQUEST = 20
PRIVATE_FILE_CSP = "default-src 'none'; sandbox"


class UploadPath(BaseModel):
    """The parts of a stored file's URL, as the upload routes answered it (``file_url``, ``images``...).
    Another segment is a 400 invalid_upload_path, another area a 404."""

    area: str = Field(
        description="Listing images, profile photos, verification documents, chat attachments",
        json_schema_extra={"enum": [*PUBLIC_AREAS, VERIFICATION_AREA, CHAT_UPLOAD_AREA]},
    )
    owner: str = Field(json_schema_extra={"pattern": SEGMENT_PATTERN})
    name: str = Field(json_schema_extra={"pattern": SEGMENT_PATTERN})


@routes.get("/uploads/{area}/{owner}/{name}")
@operation(
    summary="A stored file",
    tags="files",
    access=Access.OPTIONAL,
    path=UploadPath,
    response=None,
    media_type="*/*",  # the file's own type, found from its content when it was stored
    # 400: a path segment that is not a plain name; 401/403: a private file (verification documents, chat
    # attachments) for an anonymous caller or someone other than its uploader and admins; 502: storage failed
    errors=(400, 404, 502),
    # 302: S3 storage redirects to the file's presigned URL; 206/304/416: range and conditional requests of
    # a file on local disk.
    responses={206: None, 302: None, 304: None, 416: None},
    description="Listing images and profile photos are public; verification documents are their "
    "uploader's and admins', chat attachments their chat's participants' and admins'. Every file comes with "
    "the content type found from its bytes when it was stored; private files as attachments. With S3 "
    "storage the answer is instead a 302 redirect to a short-lived presigned URL. A token that is not valid "
    "is ignored here (a stale one must not break public images).",
)
async def serve_upload(request: web.Request) -> web.StreamResponse:
    try:
        user = await optional_user(request)
    except Unauthorized:
        # A stale token must not break public images; private areas still answer 401 for anonymous callers.
        user = None
    served = await request.app[UPLOADS].open_for(
        user=user,
        area=request.match_info["area"],
        owner_segment=request.match_info["owner"],
        name=request.match_info["name"],
    )
    private = served.file.area not in ("properties", "profiles")
    cache = "private, max-age=300" if private else "public, max-age=86400"
    if isinstance(served.target, LocalTarget):
        headers = {"Content-Type": served.file.content_type, "Cache-Control": cache}
        if served.target.content_disposition:
            headers["Content-Disposition"] = served.target.content_disposition
            # Should a browser render it anyway, it runs sandboxed: no scripts, no same-origin access.
            headers["Content-Security-Policy"] = PRIVATE_FILE_CSP
        return web.FileResponse(served.target.path, headers=headers)
    # The presigned URL expires: the redirect itself must not be cached longer than that.
    raise web.HTTPFound(served.target.url, headers={"Cache-Control": "private, no-store"})


async def form_parts(
    request: web.Request, *, fields: Collection[str]
) -> AsyncGenerator[BodyPartReader, None]:
    """The multipart body's parts named one of ``fields`` (files or text), read one at a time and never
    buffered; parts with other names are skipped."""
    if not request.content_type.startswith("multipart/"):
        raise BadRequest("Send the form as multipart/form-data", code="multipart_required")
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError) as exc:
        raise BadRequest("Malformed multipart body", code="malformed_multipart") from exc
    count = 0
    while True:
        try:
            part = await reader.next()
        except (ValueError, AssertionError, BadHttpMessage) as exc:  # a part's headers may be malformed
            raise BadRequest("Malformed multipart body", code="malformed_multipart") from exc
        if part is None:
            return
        if not isinstance(part, BodyPartReader):
            raise BadRequest("Nested multipart bodies are not supported", code="malformed_multipart")
        if part.name not in fields:
            await part.release()
            continue
        count += 1
        if count > MAX_FILES_PER_REQUEST:
            raise BadRequest(f"At most {MAX_FILES_PER_REQUEST} files per request", code="too_many_files")
        yield part
