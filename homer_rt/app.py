"""The app factory: builds one aiohttp application (REST + Socket.IO) from a Settings object."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from handlers import setup_routes
from handlers.access import access_middleware, echo_request_id
from handlers.cors import cors_headers, cors_middleware
from handlers.errors import error_middleware
from handlers.forwarded import client_address_middleware
from handlers.headers import security_headers
from handlers.metrics import metrics_port_ctx
from handlers.sockets.admin import AdminNamespace
from handlers.sockets.chat import ChatNamespace
from handlers.sockets.notifications import NotificationsNamespace
from homer_rt.appkeys import (
    ADMIN,
    ADMIN_FEED,
    AUDIT,
    AUTH,
    BACKGROUND_TASKS,
    CHATS,
    CLOCK,
    EMITTER,
    HASHER,
    LIVE_SOCKETS,
    METRICS,
    NOTIFICATIONS,
    PAYMENTS,
    PROPERTIES,
    READINESS,
    REQUESTS_IN_FLIGHT,
    SCHEDULER,
    SETTINGS,
    SHORTLISTS,
    SOCKET_SERVER,
    STORE,
    UPLOADS,
    USERS,
    VERIFICATION,
)
from homer_rt.clock import Clock, SystemClock
from homer_rt.inflight import InFlight
from homer_rt.live_sockets import LiveSockets
from homer_rt.metrics import Metrics
from homer_rt.presence import LocalPresence, RedisPresence, presence_from_settings
from homer_rt.ratelimit import LoginThrottle, SlidingWindowLimiter
from homer_rt.readiness import DependencyDown, Readiness
from homer_rt.realtime import (
    ADMIN_NAMESPACE,
    CHAT_NAMESPACE,
    NOTIFICATIONS_NAMESPACE,
    RealtimeEmitter,
    attach_socket_server,
    create_socket_server,
)
from homer_rt.scheduler import Scheduler
from homer_rt.security import PasswordHasher, TokenCodec, common_passwords
from homer_rt.services.admin import AdminService
from homer_rt.services.admin_feed import AdminFeed
from homer_rt.services.audit import AuditLog
from homer_rt.services.auth import AuthService
from homer_rt.services.chats import ChatService
from homer_rt.services.lifestyle import MockLifestyleProvider
from homer_rt.services.notifications import NotificationService
from homer_rt.services.payments import PaymentService, build_gateway
from homer_rt.services.properties import PropertyService
from homer_rt.services.shortlists import ShortlistService
from homer_rt.services.uploads import UploadService, storage_from_settings
from homer_rt.services.users import UserService
from homer_rt.services.verification import VerificationService
from homer_rt.settings import Settings
from homer_rt.shutdown import track_requests_middleware
from homer_rt.store import open_store
from storage.base import FileStorage, StorageError
from storage.s3 import S3Storage

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    clock = clock or SystemClock()
    metrics = Metrics()

    def limiter(name: str, *, limit: int, window_seconds: float) -> SlidingWindowLimiter:
        """A rate limiter on the app's clock whose refusals are counted under ``name``."""
        return SlidingWindowLimiter(
            limit=limit, window_seconds=window_seconds, clock=clock, refused=metrics.refusal_counter(name)
        )

    if settings.jwt_secret_generated:
        log.warning(
            "JWT_SECRET is not set: tokens are signed with a random secret made for this process only. "
            "Every token stops working when it restarts, and several processes (or a load balancer over "
            "them) need one shared JWT_SECRET. Set JWT_SECRET to 32+ random characters."
        )
    app = web.Application(
        middlewares=[
            access_middleware(settings.trusted_proxies, metrics),  # first: it sees the peer, times it all
            client_address_middleware(settings.trusted_proxies),
            cors_middleware(settings.cors_origins),
            error_middleware,
        ],
        client_max_size=settings.request_body_max_bytes,
    )
    app.on_response_prepare.extend([cors_headers(settings.cors_origins), security_headers])
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[METRICS] = metrics
    app.on_response_prepare.append(echo_request_id)
    app[BACKGROUND_TASKS] = set()

    sio = create_socket_server(settings)
    attach_socket_server(app, sio, settings=settings)
    app[SOCKET_SERVER] = sio
    emitter = RealtimeEmitter(sio=sio)
    app[EMITTER] = emitter
    live_sockets = LiveSockets(
        clock=clock,
        emitter=emitter,
        per_user=settings.socket_connections_per_user,
        per_address=settings.socket_connections_per_address,
        metrics=metrics,
    )
    app[LIVE_SOCKETS] = live_sockets

    hasher = PasswordHasher(
        rounds=settings.bcrypt_rounds,
        threads=settings.bcrypt_threads,
        max_pending=settings.bcrypt_max_pending,
        max_pending_new_passwords=settings.bcrypt_max_pending_new_passwords,
    )
    app[HASHER] = hasher
    app[AUTH] = AuthService(
        clock=clock,
        hasher=hasher,
        tokens=TokenCodec(
            secret=settings.jwt_secret,
            algorithm=settings.jwt_algorithm,
            expiry=timedelta(hours=settings.jwt_expiry_hours),
        ),
        login_throttle=LoginThrottle(
            per_account_and_address=settings.login_attempts_per_account_and_address,
            per_account=settings.login_attempts_per_account,
            per_address=settings.login_attempts_per_address,
            window_seconds=settings.login_window_seconds,
            known_for_seconds=settings.login_known_address_days * 86_400,
            clock=clock,
            metrics=metrics,
        ),
        registrations_per_address=limiter(
            "registrations_per_address",
            limit=settings.registrations_per_address_per_hour,
            window_seconds=3600,
        ),
        registrations_overall=limiter(
            "registrations_overall", limit=settings.registrations_per_minute, window_seconds=60
        ),
        emitter=emitter,
        session_recheck_seconds=settings.socket_session_recheck_seconds,
        metrics=metrics,
    )
    app[NOTIFICATIONS] = NotificationService(clock=clock, emitter=emitter)
    app[AUDIT] = AuditLog(clock=clock)
    app[ADMIN_FEED] = AdminFeed(emitter=emitter)
    app[PAYMENTS] = PaymentService(
        settings=settings,
        clock=clock,
        gateway=build_gateway(settings),
        notifications=app[NOTIFICATIONS],
        audit=app[AUDIT],
        feed=app[ADMIN_FEED],
    )

    file_storage = storage_from_settings(settings)
    app[UPLOADS] = UploadService(
        clock=clock,
        storage=file_storage,
        max_bytes=settings.max_upload_bytes,
        quota_bytes_per_user=settings.upload_quota_bytes_per_user,
        uploads_per_hour=settings.uploads_per_user_per_hour,
        unreferenced_ttl=timedelta(hours=settings.unreferenced_upload_ttl_hours),
        metrics=metrics,
    )
    app[USERS] = UserService(clock=clock, hasher=hasher, uploads=app[UPLOADS])
    # No AQI/maps provider is wired: lifestyle data comes from the deterministic offline provider.
    app[PROPERTIES] = PropertyService(
        clock=clock,
        uploads=app[UPLOADS],
        lifestyle=MockLifestyleProvider(),
        max_active_listings_per_owner=settings.max_active_listings_per_owner,
    )
    app[SHORTLISTS] = ShortlistService(clock=clock)
    app[VERIFICATION] = VerificationService(
        clock=clock,
        uploads=app[UPLOADS],
        payments=app[PAYMENTS],
        notifications=app[NOTIFICATIONS],
        audit=app[AUDIT],
        feed=app[ADMIN_FEED],
    )
    presence = presence_from_settings(settings, clock=clock)
    app[CHATS] = ChatService(
        clock=clock,
        emitter=emitter,
        notifications=app[NOTIFICATIONS],
        uploads=app[UPLOADS],
        send_limiter=limiter("chat_send", limit=settings.chat_send_rate_per_10s, window_seconds=10),
        typing_limiter=limiter("chat_typing", limit=settings.chat_typing_events_per_10s, window_seconds=10),
        free_contact_limit=settings.free_contact_limit,
        max_message_chars=settings.chat_message_max_chars,
        page_size=settings.chat_page_size,
        spawn=lambda coro, name: spawn(app, coro, name=name),
        presence=presence,
        unread_push_interval=settings.chat_unread_push_interval_ms / 1000,
        admin_feed=app[ADMIN_FEED],
        metrics=metrics,
    )
    sio.register_namespace(
        ChatNamespace(CHAT_NAMESPACE, auth=app[AUTH], sockets=live_sockets, chats=app[CHATS], clock=clock)
    )
    sio.register_namespace(
        NotificationsNamespace(
            NOTIFICATIONS_NAMESPACE, auth=app[AUTH], sockets=live_sockets, notifications=app[NOTIFICATIONS]
        )
    )
    app[ADMIN] = AdminService(
        clock=clock,
        audit=app[AUDIT],
        auth=app[AUTH],
        notifications=app[NOTIFICATIONS],
        feed=app[ADMIN_FEED],
        chats=app[CHATS],
        uploads=app[UPLOADS],
    )
    sio.register_namespace(
        AdminNamespace(
            ADMIN_NAMESPACE,
            auth=app[AUTH],
            sockets=live_sockets,
            feed=app[ADMIN_FEED],
            spawn=lambda coro, name: spawn(app, coro, name=name),
        )
    )

    scheduler = Scheduler(clock=clock, poll_seconds=settings.scheduler_poll_seconds)
    scheduler.every(
        "subscription-reminders",
        timedelta(seconds=settings.subscription_reminder_interval_seconds),
        app[PAYMENTS].send_due_reminders,
    )
    scheduler.every(
        "upload-cleanup",
        timedelta(seconds=settings.upload_cleanup_interval_seconds),
        app[UPLOADS].remove_unreferenced,
    )
    app[SCHEDULER] = scheduler

    app[READINESS] = _readiness(app, clock=clock, presence=presence, file_storage=file_storage)
    app[REQUESTS_IN_FLIGHT] = InFlight()
    app.middlewares.append(track_requests_middleware(app[REQUESTS_IN_FLIGHT], app[READINESS]))
    # After the cleanup contexts' start (aiohttp runs them as the first on_startup handler): store open,
    # demo data seeded, background work started.
    app.on_startup.append(_serving)

    setup_routes(app)
    app.cleanup_ctx.extend(
        [_hasher_ctx, _store_ctx, _chat_id_key_ctx, _admin_bootstrap_ctx, _background_tasks_ctx]
    )
    if isinstance(file_storage, S3Storage):
        app.cleanup_ctx.append(file_storage.cleanup_ctx)
    if isinstance(presence, RedisPresence):
        app.cleanup_ctx.append(presence.cleanup_ctx)
    app.cleanup_ctx.extend([scheduler.cleanup_ctx, _socket_expiry_ctx, _metrics_ctx, metrics_port_ctx])
    return app


def _readiness(
    app: web.Application,
    *,
    clock: Clock,
    presence: LocalPresence | RedisPresence,
    file_storage: FileStorage,
) -> Readiness:
    """What /api/health/ready checks: the store, Redis when REDIS_URL is set, and file storage."""
    settings = app[SETTINGS]
    readiness = Readiness(
        clock=clock,
        check_timeout=settings.readiness_check_timeout_seconds,
        cache_seconds=settings.readiness_cache_seconds,
    )

    async def store_answers() -> None:
        store = app.get(STORE)
        if store is None:
            raise DependencyDown("not open yet")
        if not await store.ping():
            raise DependencyDown("does not answer")

    async def storage_writable() -> None:
        try:
            await file_storage.check()
        except StorageError as error:
            raise DependencyDown(str(error)) from error

    readiness.add_check("store", store_answers)
    if isinstance(presence, RedisPresence):
        readiness.add_check("redis", presence.ping)
    readiness.add_check("storage", storage_writable)
    return readiness


async def _serving(app: web.Application) -> None:
    app[READINESS].serving()


async def _metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    """Event-loop lag is measured while someone can read it (METRICS_PORT or METRICS_TOKEN is set)."""
    if app[SETTINGS].serves_metrics:
        spawn(app, app[METRICS].run_event_loop_probe(), name="event-loop-lag-probe")
    yield


async def _socket_expiry_ctx(app: web.Application) -> AsyncIterator[None]:
    interval = app[SETTINGS].socket_expiry_check_seconds
    spawn(app, app[LIVE_SOCKETS].run_expiry_sweeps(interval_seconds=interval), name="socket-expiry")
    yield


async def _hasher_ctx(app: web.Application) -> AsyncIterator[None]:
    common_passwords()  # read once at start, not on the loop during the first registration
    yield
    app[HASHER].close()


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    async with open_store(app[SETTINGS], command_listeners=[app[METRICS].store_listener]) as store:
        app[STORE] = store
        yield


async def _chat_id_key_ctx(app: web.Application) -> AsyncIterator[None]:
    """Chat ids are keyed with a secret the store keeps: read once the store is open."""
    await app[CHATS].load_chat_id_key()
    yield


async def _admin_bootstrap_ctx(app: web.Application) -> AsyncIterator[None]:
    """ADMIN_EMAIL/ADMIN_PHONE/ADMIN_PASSWORD make sure that admin exists (the in-memory store's only way)."""
    settings = app[SETTINGS]
    if settings.admin_email and settings.admin_phone and settings.admin_password:
        await app[USERS].ensure_admin(
            email=settings.admin_email, phone=settings.admin_phone, password=settings.admin_password
        )
    yield


async def _background_tasks_ctx(app: web.Application) -> AsyncIterator[None]:
    yield
    tasks = app[BACKGROUND_TASKS]
    for task in tasks:
        task.cancel()
    for task in list(tasks):
        with contextlib.suppress(asyncio.CancelledError):
            await task


def spawn(app: web.Application, coro: object, *, name: str) -> asyncio.Task[None]:
    """Start a background task the app keeps a reference to and cancels on shutdown."""
    task: asyncio.Task[None] = asyncio.create_task(coro, name=name)  # type: ignore[arg-type]
    tasks = app[BACKGROUND_TASKS]
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task
