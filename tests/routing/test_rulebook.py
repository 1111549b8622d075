"""The rulebook as YAML: the shipped default, round trips, and files that must be refused."""

from __future__ import annotations

import pytest

from contact_center.errors import RuleError
from contact_center.routing.rulebook import DEFAULT_RULES, dump_yaml, load_yaml


def test_the_shipped_default_is_valid_and_builds() -> None:
    document = load_yaml(DEFAULT_RULES.read_text(encoding="utf-8"))
    names = [rule.name for rule in document.rules]
    assert names[:3] == ["collections", "vip-key-account", "vip"]
    book = document.build("main", "Europe/Warsaw")
    assert book.queues["collections"].after_hours == "message"
    assert not book.queues["collections"].schedule.always_open
    assert book.queues["main"].schedule.always_open


def test_export_then_import_gives_the_same_rulebook() -> None:
    document = load_yaml(DEFAULT_RULES.read_text(encoding="utf-8"))
    again = load_yaml(dump_yaml(document))
    assert again.rules == document.rules
    assert again.queues == document.queues
    assert dump_yaml(again) == dump_yaml(document)


def test_non_ascii_survives_a_round_trip() -> None:
    text = (
        'rules:\n  - {name: "Клієнти UA", '
        'then: {queue: support-uk, reason: "Mowa: {language}, żółw"}}\n'
    )
    document = load_yaml(text)
    assert load_yaml(dump_yaml(document)).rules == document.rules
    assert "Клієнти UA" in dump_yaml(document)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [\n", "not valid YAML"),
        ("colour: red\n", "top level"),
        ("queues: {main: {after_hours: pray}}\n", "after_hours"),
        ("queues: {main: {timezone: Mars/Olympus}}\n", "unknown time zone"),
        ("queues: {main: {hours: {mon: '18:00-08:00'}}}\n", "closes before it opens"),
        ("queues: {main: {hours: {someday: '08:00-18:00'}}}\n", "days among"),
        ("queues: {main: {holidays: [christmas]}}\n", "not a date"),
        ("!!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        load_yaml(text)


def test_a_huge_file_is_refused() -> None:
    with pytest.raises(RuleError, match="larger than 1 MB"):
        load_yaml("#" * 1_000_001)
