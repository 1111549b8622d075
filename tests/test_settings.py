from pathlib import Path

import pytest

from contact_center.errors import SettingsError
from contact_center.settings import Secret, load_settings


def test_defaults_are_embedded_sqlite_without_redis() -> None:
    settings = load_settings({})
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.redis_url is None
    assert settings.http_host == "127.0.0.1"


def test_environment_beats_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cc.env"
    path.write_text("# comment\nCC_HTTP_PORT=9000\nCC_NODE=file-node\n")
    settings = load_settings({"CC_SETTINGS_FILE": str(path), "CC_NODE": "env-node"})
    assert (settings.http_port, settings.node) == (9000, "env-node")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CC_AMI_PORT", "99999"),
        ("CC_AMI_PORT", "abc"),
        ("CC_DATABASE_URL", "mysql://x"),
        ("CC_REDIS_URL", "http://x"),
        ("CC_NODE", "node one"),
        ("CC_DEFAULT_REGION", "POL"),
        ("CC_AGI_ROUTE_TIMEOUT", "0"),
        ("CC_HTTP_HOST", "a b"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


def test_secret_never_shows(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("s3cr3t\n")
    settings = load_settings({"CC_AMI_SECRET_FILE": str(secret_file)})
    assert settings.ami_secret == Secret("s3cr3t")
    assert "s3cr3t" not in repr(settings)


def test_missing_secret_is_named_when_needed() -> None:
    with pytest.raises(SettingsError, match="CC_AMI_SECRET"):
        load_settings({}).require_ami_secret()


def test_bad_settings_file_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "cc.env"
    path.write_text("CC_NODE\n")
    with pytest.raises(SettingsError, match=r"cc\.env:1"):
        load_settings({"CC_SETTINGS_FILE": str(path)})
