"""The ``homer-rt`` command: serve, create-admin, seed-demo."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from collections.abc import Sequence

from aiohttp import web
from pydantic import ValidationError

from homer_rt.errors import DomainError
from homer_rt.logs import configure_logging
from homer_rt.settings import Settings


def _settings() -> Settings:
    """The process's settings, read once per command; logging is configured from them (LOG_FORMAT, LOG_LEVEL)
    before anything else runs."""
    try:
        settings = Settings()
    except ValidationError as error:
        messages = "; ".join(str(e["msg"]) for e in error.errors())
        raise SystemExit(f"homer-rt: invalid configuration: {messages}") from error
    configure_logging(settings)
    return settings


async def _freeze_startup_heap(app: web.Application) -> None:
    """Move everything alive once the server has started (modules, the app, seeded data) out of the cyclic
    garbage collector's reach. Its full collections walk every tracked object: over the ~100,000 a started
    server holds, that paused the event loop for ~60 ms, the slowest 1% of chat messages in the latency
    benchmark. Objects created later are collected as usual."""
    gc.collect()
    gc.freeze()


def _serve(args: argparse.Namespace) -> int:
    from handlers.errors import REQUEST_LINE_MAX_BYTES
    from homer_rt.app import create_app
    from homer_rt.shutdown import serve

    settings = _settings()
    app = create_app(settings)
    if args.demo:
        from homer_rt.demo import enable_demo_data

        enable_demo_data(app, properties=args.properties, messages=args.messages)
    app.on_startup.append(_freeze_startup_heap)  # last: after the store is open and demo data is seeded
    asyncio.run(
        serve(
            app,
            host=args.host or settings.host,
            port=args.port or settings.port,
            grace_seconds=settings.shutdown_grace_seconds,
            # handlers.access writes the access log (route templates, request ids, user ids).
            access_log=None,
            max_line_size=REQUEST_LINE_MAX_BYTES,
        )
    )
    return 0


async def _create_admin(args: argparse.Namespace) -> int:
    from homer_rt.clock import SystemClock
    from homer_rt.security import PasswordHasher
    from homer_rt.services.users import UserService
    from homer_rt.store import open_store

    settings = _settings()
    if settings.uses_embedded_store and not settings.embedded_data_file:
        print(
            "homer-rt: the in-memory store forgets the admin when this command exits; set MONGODB_URL or "
            "EMBEDDED_DATA_FILE, or set ADMIN_EMAIL/ADMIN_PHONE/ADMIN_PASSWORD for `homer-rt serve`.",
            file=sys.stderr,
        )
        return 2
    async with open_store(settings):
        service = UserService(clock=SystemClock(), hasher=PasswordHasher(rounds=settings.bcrypt_rounds))
        user = await service.ensure_admin(
            email=args.email, phone=args.phone, password=args.password, full_name=args.name
        )
    print(f"admin ready: {user.email} ({user.id})")
    return 0


async def _seed_demo(args: argparse.Namespace) -> int:
    from homer_rt.clock import SystemClock
    from homer_rt.demo import credentials_text, seed_demo
    from homer_rt.security import PasswordHasher
    from homer_rt.services.lifestyle import MockLifestyleProvider
    from homer_rt.store import open_store

    settings = _settings()
    if settings.uses_embedded_store and not settings.embedded_data_file:
        print(
            "homer-rt: the in-memory store forgets demo data when this command exits; set MONGODB_URL or "
            "EMBEDDED_DATA_FILE, or use `homer-rt serve --demo`.",
            file=sys.stderr,
        )
        return 2
    async with open_store(settings):
        summary = await seed_demo(
            clock=SystemClock(),
            hasher=PasswordHasher(rounds=settings.bcrypt_rounds),
            properties=args.properties,
            messages=args.messages,
            lifestyle=MockLifestyleProvider(),
        )
    print(f"demo data ready: {summary.users} users, {summary.properties} listings (new: {summary.created})")
    print(credentials_text())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="homer-rt", description="Homer RT: the Homer marketplace backend")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server (REST + Socket.IO)")
    serve.add_argument("--host", default=None, help="bind address (default HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default PORT or 8001)")
    serve.add_argument("--demo", action="store_true", help="load demo owners, renters and listings at start")
    serve.add_argument("--properties", type=int, default=60, help="number of demo listings with --demo")
    serve.add_argument(
        "--messages", type=int, default=0, help="number of demo chat messages with --demo (default 0)"
    )

    admin = commands.add_parser("create-admin", help="create or promote an admin in the configured store")
    admin.add_argument("--email", required=True)
    admin.add_argument("--phone", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--name", default=None)

    seed = commands.add_parser(
        "seed-demo", help="add demo owners, renters and listings to the configured store"
    )
    seed.add_argument("--properties", type=int, default=60, help="number of demo listings (default 60)")
    seed.add_argument(
        "--messages",
        type=int,
        default=0,
        help="number of demo chat messages, in chats of ~100 between demo renters and owners (default 0)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "create-admin":
            return asyncio.run(_create_admin(args))
        if args.command == "seed-demo":
            return asyncio.run(_seed_demo(args))
    except (ValueError, DomainError) as error:
        print(f"homer-rt: {error}", file=sys.stderr)
        return 2
    return 1
