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
SIPP_IP = {"node1": "172.30.41.241", "node2": "172.30.41.242"}
PHONE_IP = {"node1": "172.30.41.231", "node2": "172.30.41.232"}
"""Agent phones: outside TRUNK_NET, or Asterisk would take them for the carrier."""
AGENT = "agent-1001"
"""The demo's anowak."""
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
    work: Path
    env_file: Path
    http_port: int
    agent_password: str
    demo_password: str = ""

    @classmethod
    def create(cls, work: Path) -> Stack:
        http_port = free_port()
        agent_password = secrets.token_hex(12)
        values = {
            "COMPOSE_PROJECT_NAME": PROJECT,
            "POSTGRES_PASSWORD": secrets.token_hex(16),
            "REDIS_PASSWORD": secrets.token_hex(16),
            "AMI_SECRET": secrets.token_hex(16),
            "STACK_SUBNET": SUBNET,
            "TRUNK_MATCH": TRUNK_NET,
            "NODE1_AGENT_PASSWORDS": f"{AGENT}:{agent_password}",
            "NODE2_AGENT_PASSWORDS": f"{AGENT}:{agent_password}",
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
        return cls(work, env_file, http_port, agent_password)

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
        self.stop_sipp()  # containers on the stack's network would keep it
        self.compose("down", "--timeout", "20", *(["--volumes"] if volumes else []), timeout=180)

    def logs(self, *services: str) -> str:
        done = run(
            ["docker", "compose", "--env-file", str(self.env_file), "-f", str(COMPOSE_FILE),
             "logs", "--no-color", "--tail", "60", "--timestamps", *services],
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
            body = err.read()
            try:
                return err.code, json.loads(body)
            except ValueError:  # the proxy's own page: no web process answers
                return err.code, body.decode("utf-8", "replace")

    def load_demo(self) -> None:
        """The demo data set, loaded by the image's own `demo-data` command."""
        state = self.work / "demo-state"
        state.mkdir()
        os.chown(state, 10001, 10001)  # the image's contact-center user
        self.compose(
            "run", "--rm", "-T", "--volume", f"{state}:/var/lib/contact-center",
            "migrate", "demo-data", "--customers", "40", timeout=300,
        )  # fmt: skip
        self.demo_password = (state / "demo-password").read_text(encoding="utf-8").strip()

    def start_phone(self, node: str) -> None:
        """Agent phone agent-1001 on the node: SIPp answering after 1 s, registered."""
        from contact_center.sandbox.sipp import csv_line, render_scenario

        phone = self.work / f"phone-{node}"
        phone.mkdir()
        (phone / "agent.xml").write_text(
            render_scenario("agent.xml", answer_ms="1000", talk_wait=""), encoding="utf-8"
        )
        (phone / "register.xml").write_text(render_scenario("register.xml"), encoding="utf-8")
        (phone / "register.csv").write_text(
            "SEQUENTIAL\n" + csv_line(AGENT, self.agent_password, "5062", "3600"),
            encoding="utf-8",
        )
        name = f"{PROJECT}-phone-{node}"
        run(["docker", "rm", "-f", name], 30, check=False)
        run(
            [
                "docker", "run", "--detach", "--name", name, "--network", f"{PROJECT}_stack",
                "--ip", PHONE_IP[node], "--volume", f"{phone}:/work", SIPP_IMAGE,
                "-sf", "/work/agent.xml", "-i", PHONE_IP[node], "-p", "5062", "-nostdin",
                "-aa", "-mp", "30000", "-trace_logs", "-log_file", "/work/calls.log",
            ],
            60,
        )  # fmt: skip
        run(
            [
                "docker", "run", "--rm", "--network", f"container:{name}", "--volume",
                f"{phone}:/work", SIPP_IMAGE, f"asterisk-{node}:5060", "-sf", "/work/register.xml",
                "-inf", "/work/register.csv", "-i", PHONE_IP[node], "-p", "5070", "-m", "1",
                "-nostdin", "-timeout", "10s", "-timeout_error",
            ],
            60,
        )  # fmt: skip

    def stop_sipp(self) -> None:
        """Remove the agent phones and the callers' containers."""
        for node in PHONE_IP:
            for kind in ("phone", "caller"):
                run(["docker", "rm", "-f", f"{PROJECT}-{kind}-{node}"], 30, check=False)

    def asterisk_cli(self, node: str, command: str) -> str:
        return self.compose("exec", "-T", f"asterisk-{node}", "asterisk", "-rx", command).stdout

    def metrics_inside(self, service: str, port: int) -> str:
        """A process's /metrics, asked inside its container (loopback: no token needed)."""
        return self.compose(
            "exec", "-T", service, "python3", "-c",
            "import sys, urllib.request as u\n"
            "print(u.urlopen(sys.argv[1], timeout=3).read().decode())",
            f"http://127.0.0.1:{port}/metrics", timeout=30,
        ).stdout  # fmt: skip

    def ready_inside(self, service: str, port: int) -> int:
        """The HTTP status of a process's /health/ready, asked inside its container."""
        done = self.compose(
            "exec", "-T", service, "python3", "-c",
            "import sys, urllib.request as u, urllib.error as e\n"
            "try: print(u.urlopen(sys.argv[1], timeout=3).status)\n"
            "except e.HTTPError as err: print(err.code)",
            f"http://127.0.0.1:{port}/health/ready", timeout=30,
        )  # fmt: skip
        return int(done.stdout.strip())

    def place_calls(
        self,
        node: str,
        callers: Sequence[str],
        ring_ms: int = 4000,
        hold_ms: int = 2000,
    ) -> list[str]:
        """SIPp on the stack's network calls the node as the carrier, one call per caller;
        a caller hangs up after ring_ms unanswered, or hold_ms after the answer. Returns each
        call's outcome as SIPp saw it.

        Each node's callers are SIPp processes run one after another in one container: SIPp
        derives its Call-IDs and Via branches from its pid, which would be 1 every time in a
        container of its own, and Asterisk would take a new call's BYE for an old one's."""
        from contact_center.sandbox.sipp import csv_line, render_scenario

        container = f"{PROJECT}-caller-{node}"
        if run(["docker", "inspect", container], 30, check=False).returncode != 0:
            run(
                [
                    "docker", "run", "--detach", "--name", container, "--network",
                    f"{PROJECT}_stack", "--ip", SIPP_IP[node], "--volume", f"{self.work}:/work",
                    "--entrypoint", "sleep", SIPP_IMAGE, "infinity",
                ],
                60,
            )  # fmt: skip
        calls = self.work / f"sipp-{node}-{secrets.token_hex(4)}"
        calls.mkdir()
        inside = f"/work/{calls.name}"
        (calls / "caller.xml").write_text(
            render_scenario("caller.xml", ring_ms=str(ring_ms), hold_ms=str(hold_ms)),
            encoding="utf-8",
        )
        lines = [csv_line(number, f'"Caller {number}"', "800100200") for number in callers]
        (calls / "calls.csv").write_text("SEQUENTIAL\n" + "".join(lines), encoding="utf-8")
        done = run(
            [
                "docker", "exec", container, "sipp", f"asterisk-{node}:5060",
                "-sf", f"{inside}/caller.xml", "-inf", f"{inside}/calls.csv", "-i", SIPP_IP[node],
                "-m", str(len(callers)), "-r", "2", "-l", str(len(callers)), "-nostdin", "-aa",
                "-mp", "30000", "-trace_err", "-error_file", f"{inside}/errors.log",
                "-trace_logs", "-log_file", f"{inside}/calls.log", "-timeout", "60s",
                "-timeout_error", "-cid_str", f"{calls.name}-%u@%s",
            ],
            120,
            check=False,
        )  # fmt: skip
        log = calls / "calls.log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
        results = [line.split("CC-RESULT ", 1)[1].strip() for line in text.splitlines()
                   if "CC-RESULT " in line]  # fmt: skip
        outcomes = [result for result in results if result != "answered"]  # then how it ended
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
