"""Build the Debian sid root that the sandbox runs Asterisk and SIPp in.

The root is built with debootstrap into a temporary directory next to its final place and
renamed when complete, so a half-built root is never used. A marker file says it is whole.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from contact_center.errors import SandboxError
from contact_center.sandbox import _proc
from contact_center.settings import Settings

log = logging.getLogger(__name__)

PACKAGES = ("asterisk", "asterisk-modules", "sip-tester")
SUITE = "sid"
MARKER = ".contact-center-root"
DEBOOTSTRAP_TIMEOUT = 1800.0

# Asterisk's own directories: in the root they belong to an "asterisk" uid that means
# someone else on the host, and root here cannot read other users' files.
ASTERISK_DIRS = (
    "etc/asterisk",
    "var/lib/asterisk",
    "var/spool/asterisk",
    "var/log/asterisk",
    "var/cache/asterisk",
    "run/asterisk",
    "usr/share/asterisk",
)

_DEB_LINE = re.compile(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)")


def root_is_ready(root: Path) -> bool:
    return (root / MARKER).is_file() and (root / "usr/sbin/asterisk").is_file()


def find_debian_mirror(settings: Settings, apt_dir: Path = Path("/etc/apt")) -> str:
    """The mirror from the settings, else the first Debian archive in the host's apt sources."""
    if settings.debian_mirror:
        return settings.debian_mirror
    candidates: list[tuple[str, str]] = []
    sources_dir = apt_dir / "sources.list.d"
    deb822 = sorted(sources_dir.glob("*.sources")) if sources_dir.is_dir() else []
    for path in deb822:
        for stanza in path.read_text(encoding="utf-8").split("\n\n"):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                key, sep, value = line.partition(":")
                if sep and not line.startswith((" ", "#")):
                    fields[key.strip().lower()] = value.strip()
            if "deb" not in fields.get("types", "deb").split():
                continue
            for uri in fields.get("uris", "").split():
                candidates.append((uri, fields.get("suites", "")))
    lists = [apt_dir / "sources.list"]
    if sources_dir.is_dir():
        lists += sorted(sources_dir.glob("*.list"))
    for path in lists:
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                match = _DEB_LINE.match(line)
                if match:
                    candidates.append((match.group(1), match.group(2)))
    for uri, suites in candidates:
        if _is_debian_archive(uri, suites):
            return uri.rstrip("/")
    raise SandboxError("no Debian mirror in /etc/apt/sources.list(.d); set CC_DEBIAN_MIRROR to one")


def _is_debian_archive(uri: str, suites: str) -> bool:
    if not uri.startswith(("http://", "https://", "file:/")):
        return False
    path = uri.rstrip("/")
    if path.endswith(("-security", "-ports", "-backports")) or "security" in suites:
        return False
    return path.endswith("/debian") or "debian" in path.rsplit("/", 1)[-1]


def prepare_root(root: Path) -> None:
    """Make the Asterisk directories exist and belong to root (idempotent)."""
    (root / "run/asterisk").mkdir(parents=True, exist_ok=True)
    for rel in ASTERISK_DIRS:
        top = root / rel
        top.mkdir(parents=True, exist_ok=True)
        for dirpath, _dirnames, filenames in os.walk(top):
            os.lchown(dirpath, 0, 0)
            for name in filenames:
                os.lchown(os.path.join(dirpath, name), 0, 0)


async def build_root(settings: Settings) -> Path:
    """Return the root at ``settings.sandbox_root``, debootstrapping it first if needed."""
    root = await asyncio.to_thread(settings.sandbox_root.resolve)  # it reads links on disk
    if await asyncio.to_thread(root_is_ready, root):
        return root
    if os.geteuid() != 0:
        raise SandboxError("building the sandbox root needs root (debootstrap, chroot)")
    mirror = await asyncio.to_thread(find_debian_mirror, settings)
    debootstrap = await _ensure_debootstrap()
    await asyncio.to_thread(root.parent.mkdir, parents=True, exist_ok=True)
    staging = Path(
        await asyncio.to_thread(tempfile.mkdtemp, prefix=f".{root.name}.build-", dir=root.parent)
    )
    log.info("building the sandbox root in %s from %s (takes a minute or two)", staging, mirror)
    try:
        await _proc.run(
            debootstrap,
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(staging),
            mirror,
            limit=DEBOOTSTRAP_TIMEOUT,
        )
        await asyncio.to_thread(_finish, staging, root)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, staging, ignore_errors=True)
        raise
    log.info("sandbox root ready at %s", root)
    return root


def _finish(staging: Path, root: Path) -> None:
    if not (staging / "usr/sbin/asterisk").is_file() or not (staging / "usr/bin/sipp").is_file():
        raise SandboxError(f"debootstrap finished but {staging} has no asterisk or sipp")
    prepare_root(staging)
    (staging / MARKER).write_text(f"{SUITE} {' '.join(PACKAGES)}\n", encoding="utf-8")
    if root.exists():
        # a root without the marker is a leftover: set it aside, never use it
        leftover = root.with_name(f".{root.name}.stale-{os.getpid()}")
        root.rename(leftover)
        shutil.rmtree(leftover, ignore_errors=True)
    staging.rename(root)


async def _ensure_debootstrap() -> str:
    found = await asyncio.to_thread(shutil.which, "debootstrap")
    if found:
        return found
    log.info("installing debootstrap with apt-get")
    await _proc.run("apt-get", "update", limit=600)
    await _proc.run("apt-get", "install", "-y", "--no-install-recommends", "debootstrap", limit=600)
    found = await asyncio.to_thread(shutil.which, "debootstrap")
    if not found:
        raise SandboxError("apt-get installed debootstrap but it is not on PATH")
    return found
