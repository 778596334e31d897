"""Sizes with units typed into the storage forms: binary multiples, clear errors."""

from __future__ import annotations

import pytest

from virttui.core.common.units import parse_bytes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10G", 10 << 30),
        ("10g", 10 << 30),
        ("512 MiB", 512 << 20),
        ("512MB", 512 << 20),
        ("1.5T", 3 << 39),
        ("4096B", 4096),
        ("1k", 1024),
        ("20", 20 << 30),
        (" 2 P ", 2 << 50),
    ],
)
def test_sizes(text: str, expected: int) -> None:
    assert parse_bytes(text, "Capacity") == expected


def test_default_unit() -> None:
    assert parse_bytes("3", "Size", default_unit="M") == 3 << 20


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1G", "Capacity: .-1G. is negative; a size must be above zero"),
        ("0G", "Capacity must be above zero"),
        ("10Q", "unknown unit 'Q'"),
        ("10 zB", "unknown unit 'zB'"),
        ("G", "a number with a unit"),
        ("", "enter a size"),
        ("abc", "a number with a unit"),
        ("1e400G", "not a size"),
        ("1..2G", "a number"),
        ("0.1B", "below one byte"),
        ("100P", "absurdly large"),
    ],
)
def test_bad_sizes(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_bytes(text, "Capacity")
