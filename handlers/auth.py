"""/api/auth: register, login, logout, me, change-password (the spec's routes/auth.py)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from documents.user import PrivateUserView, UserType
from handlers.common import (
    MessageResponse,
    authenticate,
    client_address,
    current_user,
    json_response,
    now,
    parse_body,
)
from handlers.contract import Access, operation
from homer_rt.appkeys import AUTH
from homer_rt.logs import bind_user
from homer_rt.services.auth import Session, SessionResponse

routes = web.RouteTableDef()


class RegisterBody(BaseModel):
    # The schema shows the forms to send; the service's checks (homer_rt.identity, security) are the rules,
    # and they answer 400 as before: json_schema_extra documents, it does not validate.
    email: str = Field(max_length=254, json_schema_extra={"format": "email"})
    phone: str = Field(
        max_length=32,
        description="E.164; a 10-digit Indian mobile number gets +91",
        json_schema_extra={"pattern": r"^\+[1-9][0-9]{7,14}$", "examples": ["+919876543210"]},
    )
    password: str = Field(
        max_length=1024,
        description="8 to 72 bytes, not a common password",
        json_schema_extra={"minLength": 8},
    )
    user_type: UserType = UserType.RENTER
    full_name: str | None = Field(default=None, max_length=200)


def _email_or_phone(schema: JsonDict) -> None:
    """What ``_needs_identifier`` checks, documented: a non-empty ``email`` or ``phone``."""
    schema["anyOf"] = [
        {"required": [name], "properties": {name: {"type": "string", "minLength": 1}}}
        for name in ("email", "phone")
    ]


class LoginBody(BaseModel):
    """The spec sends the email or the phone number in ``email``; ``phone`` is accepted too."""

    model_config = ConfigDict(json_schema_extra=_email_or_phone)

    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    password: str = Field(max_length=1024)

    @model_validator(mode="after")
    def _needs_identifier(self) -> LoginBody:
        if not (self.email or self.phone):
            raise ValueError("email or phone is required")
        return self


class ChangePasswordBody(BaseModel):
    old_password: str = Field(max_length=1024)
    # Documented as at register; the service's checks are the rules (400 invalid_password).
    new_password: str = Field(
        max_length=1024,
        description="8 to 72 bytes, not a common password, not the old one",
        json_schema_extra={"minLength": 8},
    )


def session_response(request: web.Request, session: Session) -> web.Response:
    bind_user(session.user.id)  # the caller is known from here on: the access log line names them
    return json_response(session.response(now(request)))


@routes.post("/api/auth/register")
@operation(
    summary="Create an account and sign in",
    tags="auth",
    access=Access.PUBLIC,
    body=RegisterBody,
    response=SessionResponse,
    # 409: the email or phone is registered; 429: registrations from this address or overall; 503: the
    # password hasher's queue is full.
    errors=(409, 429, 503),
)
async def register(request: web.Request) -> web.Response:
    body = await parse_body(request, RegisterBody)
    session = await request.app[AUTH].register(
        email=body.email,
        phone=body.phone,
        password=body.password,
        user_type=body.user_type,
        full_name=body.full_name,
        client_address=client_address(request),
    )
    return session_response(request, session)


@routes.post("/api/auth/login")
@operation(
    summary="Sign in with email or phone and password",
    tags="auth",
    access=Access.PUBLIC,
    body=LoginBody,
    response=SessionResponse,
    # 401: wrong credentials; 403: the account is inactive; 429: too many failed attempts; 503: hasher busy.
    errors=(401, 403, 429, 503),
)
async def login(request: web.Request) -> web.Response:
    body = await parse_body(request, LoginBody)
    session = await request.app[AUTH].login(
        identifier=body.email or body.phone or "",
        password=body.password,
        client_address=client_address(request),
    )
    return session_response(request, session)


@routes.post("/api/auth/logout")
@operation(
    summary="End this token's session (its live sockets close too)",
    tags="auth",
    access=Access.USER,
    response=MessageResponse,
)
async def logout(request: web.Request) -> web.Response:
    auth = await authenticate(request)
    await request.app[AUTH].logout(claims=auth.claims)
    return json_response({"message": "Logged out successfully"})


@routes.get("/api/auth/me")
@operation(summary="The signed-in user", tags="auth", access=Access.USER, response=PrivateUserView)
async def me(request: web.Request) -> web.Response:
    user = await current_user(request)
    return json_response(user.private_view(now(request)))


@routes.post("/api/auth/change-password")
@operation(
    summary="Change the password: every earlier token stops working, a new one is answered",
    tags="auth",
    access=Access.USER,
    body=ChangePasswordBody,
    response=SessionResponse,
    errors=(429, 503),  # failed attempts count as sign-in failures; the hasher may be busy
)
async def change_password(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body(request, ChangePasswordBody)
    session = await request.app[AUTH].change_password(
        user=user,
        old_password=body.old_password,
        new_password=body.new_password,
        client_address=client_address(request),
    )
    return session_response(request, session)
