"""The report pages through a real HTTP client, logged in as real users, on the known data
set (tests/analytics/dataset.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator

import pytest

from contact_center.web.keys import DATABASE
from tests.analytics.dataset import load_known
from tests.web.auth_helpers import Client, app_client, log_in_as

DAY = "from=2026-11-02&to=2026-11-02"


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[Client]:
    client = await app_client(database_url, timezone="UTC")
    assert client.app is not None
    async with client.app[DATABASE].sessions() as session, session.begin():
        await load_known(session)
    try:
        yield client
    finally:
        await client.close()


async def test_only_supervisors_and_admins(client: Client) -> None:
    for path in ("/reports", "/reports/queues.csv", "/reports/report.pdf"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"].startswith("/login")
    await log_in_as(client, "agent1", "agent")
    for path in ("/reports", "/reports/queues.csv", "/reports/report.pdf"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 403


async def test_the_page_shows_the_figures(client: Client) -> None:
    await log_in_as(client, "mzielinska", "supervisor")
    response = await client.get(f"/reports?{DAY}")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    page = await response.text()
    assert "2026-11-02 to 2026-11-02" in page
    assert "<span>Service level</span><strong>37.5%</strong>" in page  # 3 of 8
    assert "<span>FCR</span><strong>40.0%</strong>" in page  # 2 of 5
    data = json.loads(re.search(r'id="report-data">(.*?)</script>', page, re.S)[1])  # type: ignore[index]
    assert sum(data["answered"]) == 5
    assert data["heatmap"][0][9] == 3
    for table in ("summary", "intervals", "queues", "agents", "pauses", "heatmap", "dispositions"):
        assert f'href="/reports/{table}.csv?from=2026-11-02&amp;to=2026-11-02"' in page


async def test_csv_of_the_queues(client: Client) -> None:
    await log_in_as(client, "admin1", "admin")
    response = await client.get(f"/reports/queues.csv?{DAY}&interval=hour")
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert "queues-2026-11-02-2026-11-02.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    support = next(row for row in rows if row["queue"] == "support")
    assert (support["offered"], support["answered"], support["abandoned"]) == ("6", "2", "1")
    assert (support["short_abandoned"], support["exited"], support["threshold"]) == ("1", "1", "20")
    assert (support["service_level"], support["asa"], support["aht"]) == ("0.2", "17.5", "160")
    vip = next(row for row in rows if row["queue"] == "vip")
    assert (vip["service_level"], vip["aht"]) == ("0.5", "55")


async def test_csv_of_agents_and_pauses(client: Client) -> None:
    await log_in_as(client, "mzielinska", "supervisor")
    response = await client.get(f"/reports/agents.csv?{DAY}")
    agents = {row["agent"]: row for row in csv.DictReader(io.StringIO(await response.text()))}
    assert agents["Anna"]["answered"] == "3"
    assert agents["Anna"]["logged_in"] == "28800"
    assert agents["Anna"]["paused"] == "2400"
    assert float(agents["Anna"]["occupancy"]) == pytest.approx(225 / 26400, abs=1e-4)
    response = await client.get(f"/reports/pauses.csv?{DAY}")
    pauses = list(csv.reader(io.StringIO(await response.text())))
    assert pauses[1:] == [
        ["Anna", "Lunch", "1800"],
        ["Anna", "Break", "600"],
        ["Olena", "Break", "1200"],
    ]


async def test_filters_in_the_query(client: Client) -> None:
    await log_in_as(client, "mzielinska", "supervisor")
    response = await client.get(f"/reports/summary.csv?{DAY}&tier=vip")
    summary = {row[0]: row[1] for row in csv.reader(io.StringIO(await response.text()))}
    assert summary["Offered"] == "1"
    response = await client.get(f"/reports/summary.csv?{DAY}&hotline=%2B48221000999")
    summary = {row[0]: row[1] for row in csv.reader(io.StringIO(await response.text()))}
    assert (summary["Offered"], summary["Abandoned"]) == ("1", "1")


async def test_hostile_filters(client: Client) -> None:
    await log_in_as(client, "mzielinska", "supervisor")
    response = await client.get("/reports", params={"hotline": "<script>alert(1)</script>"})
    page = await response.text()
    assert response.status == 200
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for query in (
        "from=yesterday",
        "from=2026-11-05&to=2026-11-01",
        "agent=x",
        "tier=gold",
        "interval=minute",
        "hotline=a%0Ab",
        "from=2020-01-01&to=2026-01-01",
    ):
        response = await client.get(f"/reports?{query}")
        assert response.status == 400, query
    response = await client.get("/reports/nothing.csv")
    assert response.status == 404


async def test_csv_text_is_never_a_formula(client: Client) -> None:
    from contact_center.analytics.tables import Column, Table, to_csv

    table = Table(
        "t", "T", (Column("name", "Name", "text"),), (("=HYPERLINK(1)",), ("-1+2",), ("ok",))
    )
    assert to_csv(table).splitlines() == ["name", "'=HYPERLINK(1)", "'-1+2", "ok"]
