"""Where the tests' data lives, so a test module can move between rooms without path arithmetic."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
DATA = TESTS / "data"
FIXTURES = TESTS / "fixtures"
CORE_DATA = TESTS / "core" / "data"
