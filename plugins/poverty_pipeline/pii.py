"""The keyed hash that stands for a household outside the raw layer.

Names and citizen IDs stay in ``raw``; everywhere else a household is
``HMAC-SHA256(POVERTY_PII_KEY, '<commune code>:<household code>')`` (dbt macro
``household_key``). The key comes from the environment only. The warehouse keeps the HMAC's
inner and outer pads in ``pii.hmac_pads``, a table only the warehouse owner can read, so dbt
can compute the hash in SQL without the key appearing in any compiled SQL, log or file.
Changing the key re-keys every household at the next build.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

import psycopg

from poverty_pipeline.config import LOCAL_DIR

KEY_ENV = "POVERTY_PII_KEY"
DEV_KEY_FILE = LOCAL_DIR / "pii_key"
BLOCK_SIZE = 64  # SHA-256's block size (RFC 2104)


def secret_key() -> bytes:
    """``POVERTY_PII_KEY``: every process that keys households must have the same key, so a
    missing one is an error, never a key made up on the spot."""
    key = os.environ.get(KEY_ENV)
    if not key:
        raise RuntimeError(
            f"{KEY_ENV} is not set: give the key that stands for households outside raw "
            "(the same for every Airflow component); `make run` keeps a local one in "
            f"{DEV_KEY_FILE}"
        )
    return key.encode("utf-8")


def local_key() -> str:
    """The key of local runs (``make run``, ``make bench``), made once and kept in
    ``.local/pii_key`` (readable by its owner only)."""
    if not DEV_KEY_FILE.exists():
        DEV_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(DEV_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return DEV_KEY_FILE.read_text().strip()


def pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC's inner and outer pads of ``key`` (RFC 2104)."""
    if len(key) > BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK_SIZE, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def household_key(commune_code: str, household_code: str, key: bytes | None = None) -> str:
    """The household's key as the warehouse computes it (for tests and for tracing a
    household from raw to the marts)."""
    message = f"{commune_code}:{household_code}".encode()
    return hmac.new(key or secret_key(), message, hashlib.sha256).hexdigest()


def store_pads(conn: psycopg.Connection) -> None:
    """Write the current key's pads to ``pii.hmac_pads`` (owner-only), replacing older ones."""
    inner, outer = pads(secret_key())
    with conn.transaction():
        conn.execute("create schema if not exists pii")
        conn.execute("revoke all on schema pii from public")
        conn.execute("create table if not exists pii.hmac_pads (inner_pad bytea not null, "
                     "outer_pad bytea not null, singleton boolean primary key default true "
                     "check (singleton))")
        conn.execute("revoke all on pii.hmac_pads from public")
        conn.execute(
            "insert into pii.hmac_pads (inner_pad, outer_pad) values (%s, %s) "
            "on conflict (singleton) do update set inner_pad = excluded.inner_pad, "
            "outer_pad = excluded.outer_pad "
            "where (pii.hmac_pads.inner_pad, pii.hmac_pads.outer_pad) "
            "is distinct from (excluded.inner_pad, excluded.outer_pad)",
            (inner, outer),
        )
