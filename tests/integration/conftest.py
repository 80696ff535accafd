"""Fixtures shared by the integration tests."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from tests.daemon_fixtures import MONTHS, expected_message_ids


@pytest.fixture(scope="session")
def control_ids(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """The Message-IDs each of Testshire's first four months brings (an uninterrupted run), computed once."""
    return expected_message_ids(tmp_path_factory.mktemp("control"), MONTHS[:4])


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A store URL in a PostgreSQL schema of its own (dropped afterwards), so tests never see each other's rows.

    The server is CSP_MONITOR_TEST_POSTGRES (an SQLAlchemy URL; ``bash .ci/postgres start`` starts one on
    127.0.0.1 and prints it). Without it the test skips, except under CI, where it fails.
    """
    url = os.environ.get("CSP_MONITOR_TEST_POSTGRES")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CSP_MONITOR_TEST_POSTGRES is not set: CI must provide PostgreSQL (.ci/postgres start)")
        pytest.skip("CSP_MONITOR_TEST_POSTGRES is not set (start a server with: bash .ci/postgres start)")
    from sqlalchemy import create_engine, text

    schema = f"csp_test_{secrets.token_hex(4)}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options={quote(f'-csearch_path={schema}')}"
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()
