"""Helpers for web tests that need a logged-in user: an app on a real database with cheap
password hashing, users, and logins through the real form."""

from __future__ import annotations

import asyncio
import re

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher, Type

from contact_center.accounts import Passwords, create_user
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.web.app import create_app
from contact_center.web.keys import DATABASE, PASSWORDS

Client = TestClient[object, object]

PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def cheap_passwords() -> Passwords:
    """Fast, weak argon2id parameters: for tests only."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID))


async def app_client(database_url: str, **overrides: object) -> Client:
    """A started test client on a migrated database, hashing with cheap parameters."""
    settings = load_settings({}, database_url=database_url, **overrides)
    app = await asyncio.to_thread(create_app, settings)  # it resolves the static folder
    app[PASSWORDS] = cheap_passwords()
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    await upgrade(app[DATABASE].engine)
    return client


async def add_user(
    client: Client, username: str, role: str = "agent", password: str = PASSWORD
) -> None:
    app = client.app
    assert app is not None
    await create_user(
        app[DATABASE].sessions,
        app[PASSWORDS],
        username=username,
        password=password,
        role=role,
        display_name=username.title(),
    )


def origin(client: Client) -> dict[str, str]:
    """The Origin header a browser sends with a form from this site."""
    url = client.make_url("/")
    return {"Origin": f"{url.scheme}://{url.host}:{url.port}"}


async def log_in(
    client: Client, username: str, password: str = PASSWORD, next_url: str = "/"
) -> ClientResponse:
    return await client.post(
        "/login",
        data={"username": username, "password": password, "next": next_url},
        headers=origin(client),
        allow_redirects=False,
    )


async def log_in_as(client: Client, username: str, role: str = "agent") -> str:
    """Add a user, log them in, and return the CSRF token their pages carry."""
    await add_user(client, username, role)
    response = await log_in(client, username)
    assert response.status == 303, await response.text()
    return await csrf_token(client)


async def csrf_token(client: Client) -> str:
    page = await (await client.get("/")).text()
    found = CSRF_INPUT.search(page)
    assert found is not None, page
    return found.group(1)
