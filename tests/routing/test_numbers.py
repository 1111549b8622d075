import pytest

from contact_center.routing.numbers import normalize


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("601234567", "PL", "+48601234567"),
        ("+48 601 234 567", "PL", "+48601234567"),
        ("0048601234567", "PL", "+48601234567"),
        ("48601234567", "PL", "+48601234567"),  # country code sent without the plus
        ("22 123 45 67", "PL", "+48221234567"),
        ("+380 50 123 4567", "PL", "+380501234567"),
        ("00380501234567", "PL", "+380501234567"),
        ("050-123-45-67", "UA", "+380501234567"),
        ("+44 7911 123456", "PL", "+447911123456"),
        ("+1 (202) 555-0143", "PL", "+12025550143"),
        ("+1 212 555 2368", "PL", "+12125552368"),
    ],
)
def test_real_world_formats(raw: str, region: str, expected: str | None) -> None:
    assert normalize(raw, region) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "anonymous",
        "Anonymous",
        "unknown",
        "Restricted",
        "abc",
        "'; DROP TABLE customers; --",
        "<script>alert(1)</script>",
        "+" + "9" * 200,
        "\x00\x01",
        "123",
        "+48 123",
        "+380 00 000 0000",
    ],
)
def test_withheld_and_garbage_are_unusable(raw: str) -> None:
    assert normalize(raw, "PL") is None
