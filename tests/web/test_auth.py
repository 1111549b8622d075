"""Logins, sessions, CSRF and roles through a real HTTP client, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from argon2 import PasswordHasher
from sqlalchemy import func, select, update

from contact_center.accounts.login import LOCK_AFTER
from contact_center.cli import main
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import User, UserSession
from contact_center.web.app import create_app
from contact_center.web.auth import COOKIE, current_user, require_role, safe_next
from contact_center.web.keys import DATABASE, PASSWORDS
from tests.web.auth_helpers import (
    PASSWORD,
    Client,
    add_user,
    app_client,
    cheap_passwords,
    csrf_token,
    log_in,
    log_in_as,
)


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[Client]:
    client = await app_client(database_url)
    try:
        yield client
    finally:
        await client.close()


async def _session_rows(client: Client) -> int:
    assert client.app is not None
    async with client.app[DATABASE].sessions() as session:
        return (await session.scalar(select(func.count()).select_from(UserSession))) or 0


async def test_login_sets_a_safe_cookie_and_goes_to_next(client: Client) -> None:
    await add_user(client, "anna", "supervisor")
    response = await log_in(client, "anna", next_url="/api/me?x=1")
    assert response.status == 303
    assert response.headers["Location"] == "/api/me?x=1"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # CC_COOKIE_SECURE defaults to false (plain HTTP locally)
    me = await client.get("/api/me")
    assert me.status == 200
    body = await me.json()
    assert (body["username"], body["role"], body["display_name"]) == ("anna", "supervisor", "Anna")


async def test_cookie_is_secure_when_configured(tmp_path: Path) -> None:
    client = await app_client(f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}", cookie_secure=True)
    try:
        await add_user(client, "anna")
        response = await log_in(client, "anna")
        assert "Secure" in response.headers["Set-Cookie"]
    finally:
        await client.close()


async def test_the_session_token_is_stored_hashed(client: Client) -> None:
    await add_user(client, "anna")
    response = await log_in(client, "anna")
    token = response.cookies[COOKIE].value
    assert client.app is not None
    async with client.app[DATABASE].sessions() as session:
        stored = (await session.scalars(select(UserSession.token_hash))).one()
    assert token not in stored
    assert len(stored) == 64


class CountingHasher(PasswordHasher):
    """A cheap hasher that counts how many passwords it checked."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.checked = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.checked += 1
        return super().verify(hash, password)


async def test_wrong_password_and_unknown_user_look_the_same(client: Client) -> None:
    await add_user(client, "anna")
    hasher = CountingHasher()
    assert client.app is not None
    client.app[PASSWORDS].hasher = hasher
    wrong = await log_in(client, "anna", "not the password")
    wrong_page = await wrong.text()
    unknown = await log_in(client, "nobody", "not the password")
    unknown_page = await unknown.text()
    assert wrong.status == unknown.status == 401
    assert "Wrong username or password" in wrong_page
    assert wrong_page.replace("anna", "") == unknown_page.replace("nobody", "")
    assert hasher.checked == 2  # the unknown user cost one argon2 check too (a dummy hash)
    assert COOKIE not in wrong.cookies
    assert (await client.get("/api/me")).status == 401


async def test_five_failures_lock_the_username(client: Client) -> None:
    await add_user(client, "anna")
    await add_user(client, "bob")
    for _ in range(LOCK_AFTER):
        assert (await log_in(client, "anna", "guess-guess-guess")).status == 401
    locked = await log_in(client, "anna")  # even the right password is refused now
    assert locked.status == 429
    assert "Too many failed attempts" in await locked.text()
    assert COOKIE not in locked.cookies
    assert (await log_in(client, "bob")).status == 303  # other usernames are not affected
    for _ in range(LOCK_AFTER):
        await log_in(client, "ghost", "guess-guess-guess")
    # unknown usernames lock the same way, so the lockout tells nobody which accounts exist
    assert (await log_in(client, "ghost", "guess-guess-guess")).status == 429


async def test_pages_redirect_to_the_login_form(client: Client) -> None:
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login?next=%2F"
    form = await client.get(response.headers["Location"])
    page = await form.text()
    assert form.status == 200
    assert 'name="next" value="/"' in page


async def test_api_without_a_session_is_401(client: Client) -> None:
    response = await client.get("/api/me", allow_redirects=False)
    assert response.status == 401
    assert (await response.json())["error"] == "not_logged_in"


async def test_health_stays_public(client: Client) -> None:
    assert (await client.get("/health/live")).status == 200


async def test_post_without_the_csrf_token_is_refused(client: Client) -> None:
    token = await log_in_as(client, "anna")
    refused = await client.post("/logout", data={}, allow_redirects=False)
    assert refused.status == 403
    assert "security token" in await refused.text()
    wrong = await client.post("/logout", data={"csrf_token": token + "x"}, allow_redirects=False)
    assert wrong.status == 403
    assert (await client.get("/api/me")).status == 200  # still logged in
    logout = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert logout.status == 303
    assert logout.headers["Location"] == "/login"
    assert (await client.get("/api/me")).status == 401
    assert await _session_rows(client) == 0  # logout deleted the row


async def test_csrf_token_in_a_header(client: Client) -> None:
    token = await log_in_as(client, "anna")
    refused = await client.post("/logout", headers={"X-CSRF-Token": "nope"})
    assert refused.status == 403
    logout = await client.post("/logout", headers={"X-CSRF-Token": token}, allow_redirects=False)
    assert logout.status == 303


async def test_login_form_from_another_site_is_refused(client: Client) -> None:
    await add_user(client, "anna")
    data = {"username": "anna", "password": PASSWORD}
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {}):
        response = await client.post("/login", data=data, headers=headers, allow_redirects=False)
        assert response.status == 403, headers
        assert COOKIE not in response.cookies
    url = client.make_url("/login")
    referer = {"Referer": f"{url.scheme}://{url.host}:{url.port}/login"}
    response = await client.post("/login", data=data, headers=referer, allow_redirects=False)
    assert response.status == 303


async def test_a_forged_cookie_is_refused_and_cleared(client: Client) -> None:
    await add_user(client, "anna")
    client.session.cookie_jar.update_cookies({COOKIE: "forged-token"})
    response = await client.get("/api/me")
    assert response.status == 401
    assert response.cookies[COOKIE].value == ""  # the browser is told to drop it
    page = await client.get("/", allow_redirects=False)
    assert page.status == 303


@pytest.mark.parametrize("column", ["expires_at", "last_seen_at", "created_at"])
async def test_an_expired_session_is_refused_and_deleted(client: Client, column: str) -> None:
    await log_in_as(client, "anna")
    assert client.app is not None
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    async with client.app[DATABASE].sessions() as session, session.begin():
        await session.execute(update(UserSession).values({column: long_ago}))
    response = await client.get("/api/me")
    assert response.status == 401
    assert await _session_rows(client) == 0


async def test_a_deactivated_user_is_logged_out(client: Client) -> None:
    await log_in_as(client, "anna")
    assert client.app is not None
    async with client.app[DATABASE].sessions() as session, session.begin():
        await session.execute(update(User).values(active=False))
    assert (await client.get("/api/me")).status == 401
    assert (await log_in(client, "anna")).status == 401


async def test_logging_in_again_replaces_the_session(client: Client) -> None:
    await log_in_as(client, "anna")
    assert (await log_in(client, "anna")).status == 303
    assert await _session_rows(client) == 1


@pytest.mark.parametrize(
    "evil",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", ""],
)
async def test_next_to_another_site_is_ignored(client: Client, evil: str) -> None:
    await add_user(client, "anna")
    response = await log_in(client, "anna", next_url=evil)
    assert response.status == 303
    assert response.headers["Location"] == "/"


def test_safe_next() -> None:
    assert safe_next("/reports?day=1") == "/reports?day=1"
    assert safe_next("/\t/evil.example") == "/"
    assert safe_next("https://evil.example/x") == "/"
    assert safe_next(None) == "/"


async def _role_client(database_url: str) -> Client:
    """The real app (real middleware) with two extra supervisor-only routes."""
    settings = load_settings({}, database_url=database_url)
    app = await asyncio.to_thread(create_app, settings)
    app[PASSWORDS] = cheap_passwords()

    @require_role("supervisor")
    async def wallboard(request: web.Request) -> web.StreamResponse:
        return web.json_response({"for": current_user(request).username})

    app.router.add_get("/wallboard", wallboard)
    app.router.add_get("/api/wallboard", wallboard)
    from aiohttp.test_utils import TestClient, TestServer

    client: Client = TestClient(TestServer(app))
    await client.start_server()
    await upgrade(app[DATABASE].engine)
    return client


async def test_a_wrong_role_gets_403(database_url: str) -> None:
    client = await _role_client(database_url)
    try:
        assert (await client.get("/api/wallboard")).status == 401
        await log_in_as(client, "agnes", "agent")
        page = await client.get("/wallboard")
        api = await client.get("/api/wallboard")
        assert page.status == api.status == 403
        assert "role" in await page.text()
        assert (await api.json())["error"] == "forbidden"
        await client.post("/logout", headers={"X-CSRF-Token": await csrf_token(client)})
        await log_in_as(client, "sam", "supervisor")
        allowed = await client.get("/api/wallboard")
        assert allowed.status == 200
        assert (await allowed.json())["for"] == "sam"
    finally:
        await client.close()


def test_require_role_refuses_unknown_roles() -> None:
    with pytest.raises(ValueError, match="superuser"):
        require_role("superuser")


async def test_the_status_page_shows_who_is_logged_in(client: Client) -> None:
    token = await log_in_as(client, "anna")
    page = await (await client.get("/")).text()
    assert "Anna" in page
    assert 'action="/logout"' in page
    assert token in page


async def test_the_cli_adds_a_user_who_can_log_in(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    env = {"CC_DATABASE_URL": url, "CC_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}

    async def run(*args: str, stdin: str) -> int:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "contact_center", *args),
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await process.communicate(stdin.encode())
        assert process.returncode is not None
        return process.returncode

    client = await app_client(url)  # migrates the database, as `db upgrade` does
    try:
        assert client.app is not None
        client.app[PASSWORDS].hasher = PasswordHasher()  # production parameters, as the CLI
        add = ("user", "add", "alice", "--role", "agent", "--name", "Alice Kowalska")
        options = ("--interface", "PJSIP/agent-1001", "--password-stdin")
        assert await run(*add, *options, stdin="alice's long password\n") == 0
        response = await log_in(client, "alice", "alice's long password")
        assert response.status == 303
        me = await (await client.get("/api/me")).json()
        assert (me["display_name"], me["interface"]) == ("Alice Kowalska", "PJSIP/agent-1001")
        passwd = ("user", "passwd", "alice", "--password-stdin")
        assert await run(*passwd, stdin="a new long password\n") == 0
        assert (await client.get("/api/me")).status == 401  # a new password ends sessions
        assert (await log_in(client, "alice", "alice's long password")).status == 401
        assert (await log_in(client, "alice", "a new long password")).status == 303
    finally:
        await client.close()


def test_the_cli_refuses_a_short_password(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    monkeypatch.setenv("CC_DATABASE_URL", "sqlite+aiosqlite:///nowhere/never-opened.sqlite3")
    args = ["user", "add", "bob", "--role", "agent", "--name", "Bob", "--password-stdin"]
    assert main(args) == 1
    assert "at least 10 characters" in caplog.text
