"""``GET /api/docs``: Swagger UI over this API's OpenAPI document, to read every route and try it.

Its scripts and styles come from the pinned ``swagger-ui-bundle-v2`` package and are served from here: nothing
from a CDN, so the docs work offline. The page runs under a Content-Security-Policy that allows its own files
only; its configuration is a script of its own, not an inline one.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from aiohttp import web

from handlers.contract import Access, Handler, operation
from handlers.openapi import OPENAPI_PATH

routes = web.RouteTableDef()

DOCS_PATH = "/api/docs"

# Swagger UI: its own scripts and styles only. Its stylesheet's icons are data: URIs; "Try it out" calls this
# same origin. No inline script: the page's configuration is a script of its own (homer-docs.js).
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_DOCS_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Homer RT API</title>
<link rel="stylesheet" href="{DOCS_PATH}/swagger-ui.css">
<link rel="stylesheet" href="{DOCS_PATH}/index.css">
<link rel="icon" type="image/png" href="{DOCS_PATH}/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{DOCS_PATH}/swagger-ui-bundle.js"></script>
<script src="{DOCS_PATH}/homer-docs.js"></script>
</body>
</html>
"""

_DOCS_SCRIPT = f"""window.addEventListener("load", function () {{
  window.ui = SwaggerUIBundle({{
    url: "{OPENAPI_PATH}",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null
  }});
}});
"""


@routes.get(DOCS_PATH)
@operation(
    summary="Swagger UI: read this API and try it",
    tags="docs",
    access=Access.PUBLIC,
    response=None,
    media_type="text/html",
)
async def page(request: web.Request) -> web.Response:
    return web.Response(
        text=_DOCS_PAGE, content_type="text/html", headers={"Content-Security-Policy": DOCS_CSP}
    )


@routes.get(f"{DOCS_PATH}/homer-docs.js")
@operation(
    summary="Swagger UI's configuration for this API",
    tags="docs",
    access=Access.PUBLIC,
    response=None,
    media_type="text/javascript",
)
async def script(request: web.Request) -> web.Response:
    return web.Response(text=_DOCS_SCRIPT, content_type="text/javascript")


def _swagger_ui_dir() -> Path:
    # The package (swagger-ui-bundle-v2) has no type information; its one attribute names the folder.
    return Path(str(importlib.import_module("swagger_ui_bundle").swagger_ui_path))


def _asset(name: str, media_type: str) -> Handler:
    """A handler serving one file of the pinned Swagger UI package."""
    path = _swagger_ui_dir() / name

    async def serve(request: web.Request) -> web.StreamResponse:
        # The files change only with the package's pinned version.
        return web.FileResponse(
            path, headers={"Content-Type": media_type, "Cache-Control": "public, max-age=86400"}
        )

    serve.__name__ = serve.__qualname__ = "asset_" + re.sub(r"\W", "_", name)
    return operation(
        summary=f"Swagger UI's {name}",
        tags="docs",
        access=Access.PUBLIC,
        response=None,
        media_type=media_type,
    )(serve)


for _name, _media_type in (
    ("swagger-ui-bundle.js", "text/javascript"),
    ("swagger-ui.css", "text/css"),
    ("index.css", "text/css"),
    ("favicon-32x32.png", "image/png"),
):
    routes.get(f"{DOCS_PATH}/{_name}")(_asset(_name, _media_type))
