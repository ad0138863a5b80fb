"""Transport adapters: REST route tables and Socket.IO namespaces.

They validate input, call a service in homer_rt, and serialize. No Beanie queries here.
"""

from __future__ import annotations

from aiohttp import web

from handlers import (
    admin,
    asyncapi,
    auth,
    chats,
    docs,
    files,
    health,
    metrics,
    notifications,
    openapi,
    payments,
    properties,
    shortlists,
    users,
    verification,
)

ROUTE_TABLES: list[web.RouteTableDef] = [
    admin.routes,
    health.routes,
    metrics.routes,
    auth.routes,
    users.routes,
    chats.routes,
    notifications.routes,
    payments.routes,
    properties.routes,
    shortlists.routes,
    files.routes,
    verification.routes,
    openapi.routes,
    asyncapi.routes,
    docs.routes,
]


def setup_routes(app: web.Application) -> None:
    for table in ROUTE_TABLES:
        app.router.add_routes(table)
    openapi.setup_openapi(app)
    asyncapi.setup_asyncapi(app)
