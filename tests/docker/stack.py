"""The docker/ stack under test: `docker compose` with a throwaway project and settings.

The stack runs under its own project name, network and loopback ports, so an operator's
stack on the same machine is left alone. Base images come from docker/local-base-images.sh
(no registry here); the images' layers stay in Docker's cache between runs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from contact_center.settings import PROJECT_ROOT

DOCKER_DIR = PROJECT_ROOT / "docker"
COMPOSE_FILE = DOCKER_DIR / "compose.yaml"
PROJECT = "cc-docker-test"
SUBNET = "172.30.41.0/24"
TRUNK_NET = "172.30.41.240/28"
"""The SIPp callers' addresses (the "carrier"): inside the stack's network."""
SIPP_IMAGE = "contact-center/sipp:test"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def docker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CC_", "COMPOSE_"))}
    env["DOCKER_BUILDKIT"] = "1"
    # the extra CA bundle is outside the repository: buildx would ask before reading it
    env["BUILDX_BAKE_ENTITLEMENTS_FS"] = "0"
    return env


def run(
    args: Sequence[str], timeout: float, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        list(args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=docker_env(),
        cwd=PROJECT_ROOT,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {done.returncode}\n"
            f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
        )
    return done


def docker_ready() -> str | None:
    """Why docker cannot run the stack here, or None when it can."""
    if shutil.which("docker") is None:
        return "no docker command (./run-tests installs docker.io)"
    info = run(["docker", "info", "--format", "{{.ServerVersion}}"], 30, check=False)
    if info.returncode != 0:
        return f"dockerd does not answer: {info.stderr.strip()[:300]}"
    compose = run(["docker", "compose", "version"], 30, check=False)
    if compose.returncode != 0:
        return "no docker compose v2 plugin (docker/local-base-images.sh installs it)"
    return None


@dataclasses.dataclass
class Stack:
    env_file: Path
    http_port: int

    @classmethod
    def create(cls, work: Path) -> Stack:
        http_port = free_port()
        values = {
            "COMPOSE_PROJECT_NAME": PROJECT,
            "POSTGRES_PASSWORD": secrets.token_hex(16),
            "REDIS_PASSWORD": secrets.token_hex(16),
            "AMI_SECRET": secrets.token_hex(16),
            "STACK_SUBNET": SUBNET,
            "TRUNK_MATCH": TRUNK_NET,
            "HTTP_PUBLISH": f"127.0.0.1:{http_port}",
            "NODE1_SIP_PUBLISH": f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}",
            "NODE2_SIP_PUBLISH": f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}",
            # a few RTP ports each: every published port is a docker-proxy process here
            "RTP_PUBLISH_IP": "127.0.0.1",
            "NODE1_RTP_START": "42000",
            "NODE1_RTP_END": "42009",
            "NODE2_RTP_START": "42010",
            "NODE2_RTP_END": "42019",
        }
        if HOST_CA_BUNDLE.is_file():
            values["EXTRA_CA_FILE"] = str(HOST_CA_BUNDLE)
        env_file = work / "stack.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
        env_file.chmod(0o600)
        return cls(env_file, http_port)

    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return run(
            ["docker", "compose", "--env-file", str(self.env_file), "-f", str(COMPOSE_FILE), *args],
            timeout,
        )

    def build(self) -> None:
        self.compose("build", "--quiet", timeout=1500)
        run(
            [
                "docker", "build", "--quiet", "--target", "sipp", "--tag", SIPP_IMAGE,
                "--file", "docker/asterisk/Dockerfile", ".",
            ],
            600,
        )  # fmt: skip

    def up(self) -> None:
        self.compose("up", "--detach", "--wait", timeout=300)

    def down(self, *, volumes: bool = False) -> None:
        self.compose("down", "--timeout", "20", *(["--volumes"] if volumes else []), timeout=180)

    def logs(self) -> str:
        done = run(
            ["docker", "compose", "--env-file", str(self.env_file), "-f", str(COMPOSE_FILE),
             "logs", "--no-color", "--tail", "60"],
            60,
            check=False,
        )  # fmt: skip
        return done.stdout[-20000:]

    def sql(self, query: str) -> list[list[str]]:
        """Rows of a query, run by psql inside the postgres container."""
        done = self.compose(
            "exec", "-T", "postgres", "psql", "-U", "postgres", "-d", "contact_center",
            "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", query, timeout=60,
        )  # fmt: skip
        return [line.split("\t") for line in done.stdout.splitlines() if line]

    def get_json(self, path: str) -> tuple[int, Any]:
        url = f"http://127.0.0.1:{self.http_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as err:
            return err.code, json.load(err)

    def place_calls(self, work: Path, node: str, ip: str, callers: Sequence[str]) -> list[str]:
        """SIPp on the stack's network calls the node as the carrier, one call per caller;
        the callers hang up after 4 s unanswered. Returns each call's outcome as SIPp saw it."""
        from contact_center.sandbox.sipp import csv_line, render_scenario

        calls = work / f"sipp-{node}-{secrets.token_hex(4)}"
        calls.mkdir()
        (calls / "caller.xml").write_text(
            render_scenario("caller.xml", ring_ms="4000", hold_ms="2000"), encoding="utf-8"
        )
        lines = [csv_line(number, f'"Caller {number}"', "800100200") for number in callers]
        (calls / "calls.csv").write_text("SEQUENTIAL\n" + "".join(lines), encoding="utf-8")
        done = run(
            [
                "docker", "run", "--rm", "--network", f"{PROJECT}_stack", "--ip", ip,
                "--volume", f"{calls}:/work", SIPP_IMAGE, f"asterisk-{node}:5060",
                "-sf", "/work/caller.xml", "-inf", "/work/calls.csv", "-i", ip,
                "-m", str(len(callers)), "-r", "2", "-l", str(len(callers)),
                "-nostdin", "-aa", "-mp", "30000", "-trace_err", "-error_file", "/work/errors.log",
                "-trace_logs", "-log_file", "/work/calls.log", "-timeout", "60s", "-timeout_error",
            ],
            120,
            check=False,
        )  # fmt: skip
        log = calls / "calls.log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
        outcomes = [line.split("CC-RESULT ", 1)[1].strip() for line in text.splitlines()
                    if "CC-RESULT " in line]  # fmt: skip
        if len(outcomes) != len(callers):
            errors = calls / "errors.log"
            raise AssertionError(
                f"SIPp on {node}: {outcomes}, exit {done.returncode}\n{done.stdout[-2000:]}"
                f"{done.stderr[-2000:]}\n"
                f"{errors.read_text(errors='replace')[-3000:] if errors.is_file() else ''}"
            )
        return outcomes

    def wait_for_rows(self, query: str, count: int, timeout: float = 60) -> list[list[str]]:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.sql(query)
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(1)
