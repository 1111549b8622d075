"""The PDF report, printed by Chromium through the real web app, rendered back to an image
(poppler's pdftoppm) and to text (pdftotext): the chart is on it (its colours' pixels) and
so are the table, the period and the filters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from contact_center.web.keys import DATABASE
from tests.analytics.dataset import load_known
from tests.web.auth_helpers import Client, app_client, log_in_as

ANSWERED_GREEN = (0x2E, 0x7D, 0x32)
ABANDONED_RED = (0xC6, 0x28, 0x28)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    client = await app_client(f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}", timezone="UTC")
    assert client.app is not None
    async with client.app[DATABASE].sessions() as session, session.begin():
        await load_known(session)
    try:
        yield client
    finally:
        await client.close()


async def run(*command: str) -> bytes:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out


def read_ppm(data: bytes) -> tuple[int, int, bytes]:
    """A binary PPM (P6, 8 bits) as width, height and RGB bytes."""
    fields: list[bytes] = []
    position = 0
    while len(fields) < 4:
        while data[position : position + 1].isspace():
            position += 1
        end = position
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    magic, width, height, _depth = fields
    assert magic == b"P6"
    return int(width), int(height), data[position + 1 :]


def pixels_near(rgb: bytes, colour: tuple[int, int, int], tolerance: int = 12) -> int:
    return sum(
        1
        for i in range(0, len(rgb), 3)
        if all(abs(rgb[i + k] - colour[k]) <= tolerance for k in range(3))
    )


@pytest.mark.timeout(180)
async def test_the_pdf_shows_the_chart_and_the_table(client: Client, tmp_path: Path) -> None:
    await log_in_as(client, "mzielinska", "supervisor")
    response = await client.get("/reports/report.pdf?from=2026-11-02&to=2026-11-02&queue=support")
    assert response.status == 200, await response.text()
    assert response.content_type == "application/pdf"
    pdf = tmp_path / "report.pdf"
    await asyncio.to_thread(pdf.write_bytes, await response.read())

    text = (await run("pdftotext", "-layout", str(pdf), "-")).decode()
    assert "2026-11-02 to 2026-11-02" in text  # the period
    assert "Queue: support" in text  # the filters
    assert "Calls by hour and service level" in text  # the chart's caption
    assert "Queues" in text  # the table ...
    assert "support" in text
    assert "20.0%" in text  # ... with support's service level (1 of 5)
    assert "Log out" not in text  # no page furniture

    image = await run("pdftoppm", "-f", "1", "-l", "1", "-r", "60", str(pdf))
    width, height, rgb = read_ppm(image)
    assert width > height  # A4 landscape
    # the stacked bars: answered (green) and abandoned (red) calls are drawn
    assert pixels_near(rgb, ANSWERED_GREEN) > 30
    assert pixels_near(rgb, ABANDONED_RED) > 10
