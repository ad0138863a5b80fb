"""Every piece of application state, declared once as a typed web.AppKey."""

from __future__ import annotations

import asyncio

import socketio
from aiohttp import web

from homer_rt.clock import Clock
from homer_rt.inflight import InFlight
from homer_rt.live_sockets import LiveSockets
from homer_rt.metrics import Metrics
from homer_rt.readiness import Readiness
from homer_rt.realtime import RealtimeEmitter
from homer_rt.scheduler import Scheduler
from homer_rt.security import PasswordHasher
from homer_rt.services.admin import AdminService
from homer_rt.services.admin_feed import AdminFeed
from homer_rt.services.audit import AuditLog
from homer_rt.services.auth import AuthService
from homer_rt.services.chats import ChatService
from homer_rt.services.notifications import NotificationService
from homer_rt.services.payments import PaymentService
from homer_rt.services.properties import PropertyService
from homer_rt.services.shortlists import ShortlistService
from homer_rt.services.uploads import UploadService
from homer_rt.services.users import UserService
from homer_rt.services.verification import VerificationService
from homer_rt.settings import Settings
from homer_rt.store import Store

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
HASHER = web.AppKey("password_hasher", PasswordHasher)
STORE = web.AppKey("store", Store)
SOCKET_SERVER = web.AppKey("socket_server", socketio.AsyncServer)
EMITTER = web.AppKey("emitter", RealtimeEmitter)
LIVE_SOCKETS = web.AppKey("live_sockets", LiveSockets)
BACKGROUND_TASKS = web.AppKey("background_tasks", set[asyncio.Task[None]])
SCHEDULER = web.AppKey("scheduler", Scheduler)
READINESS = web.AppKey("readiness", Readiness)
REQUESTS_IN_FLIGHT = web.AppKey("requests_in_flight", InFlight)
METRICS = web.AppKey("metrics", Metrics)

AUTH = web.AppKey("auth_service", AuthService)
USERS = web.AppKey("user_service", UserService)
NOTIFICATIONS = web.AppKey("notification_service", NotificationService)
AUDIT = web.AppKey("audit_log", AuditLog)
PAYMENTS = web.AppKey("payment_service", PaymentService)
ADMIN = web.AppKey("admin_service", AdminService)
ADMIN_FEED = web.AppKey("admin_feed", AdminFeed)
UPLOADS = web.AppKey("upload_service", UploadService)
PROPERTIES = web.AppKey("property_service", PropertyService)
SHORTLISTS = web.AppKey("shortlist_service", ShortlistService)
CHATS = web.AppKey("chat_service", ChatService)
VERIFICATION = web.AppKey("verification_service", VerificationService)
