"""Create and drop the uniquely named databases tests work in, and read rows from them
(importable from any test module, unlike a conftest)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import dict_row


def database_url(server_url: str, dbname: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def create_database(prefix: str) -> tuple[str, str]:
    server = os.environ["POVERTY_TEST_SERVER_URL"]
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return name, database_url(server, name)


def drop_database(name: str) -> None:
    with psycopg.connect(os.environ["POVERTY_TEST_SERVER_URL"], autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A new, uniquely named database on the test server, dropped (connections and all) when
    the block ends; yields its URL."""
    name, url = create_database(prefix)
    try:
        yield url
    finally:
        drop_database(name)


def dict_rows(url: str, query: str, *params) -> list[dict]:
    """The rows of ``query`` in the database at ``url``, each a dict by column name."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(query, params).fetchall()
