"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from tests.daemon_fixtures import MONTHS, expected_message_ids


@pytest.fixture(scope="session")
def control_ids(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """The Message-IDs each of Testshire's first four months brings (an uninterrupted run), computed once."""
    return expected_message_ids(tmp_path_factory.mktemp("control"), MONTHS[:4])
