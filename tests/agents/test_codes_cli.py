"""`contact-center codes`: the lists from the shell, through the real command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import app_env


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = app_env(CC_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}")
    return subprocess.run(
        [sys.executable, "-m", "contact_center", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_list_add_relabel_and_retire(tmp_path: Path) -> None:
    assert cli(tmp_path, "db", "upgrade").returncode == 0
    listed = cli(tmp_path, "codes", "list", "pause_reason")
    assert listed.stdout.splitlines() == [
        "break\tBreak\t0\tactive",
        "lunch\tLunch\t1\tactive",
        "training\tTraining\t2\tactive",
        "back_office\tBack office\t3\tactive",
    ]
    added = cli(tmp_path, "codes", "set", "pause_reason", "meeting", "Narada zespołu")
    assert added.stdout == "meeting\tNarada zespołu\t4\tactive\n"
    cli(tmp_path, "codes", "set", "pause_reason", "lunch", "Lunch", "--retire")
    listed = cli(tmp_path, "codes", "list", "pause_reason")
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == [
        "break",
        "training",
        "back_office",
        "meeting",
    ]
    everything = cli(tmp_path, "codes", "list", "pause_reason", "--all")
    assert "lunch\tLunch\t1\tretired" in everything.stdout.splitlines()
    refused = cli(tmp_path, "codes", "set", "disposition", "Not A Code", "x")
    assert refused.returncode == 1
    assert "code:" in refused.stderr
    dispositions = cli(tmp_path, "codes", "list", "disposition").stdout.splitlines()
    assert len(dispositions) == 5
