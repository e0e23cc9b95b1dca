"""The keyed hash that stands for a household outside the raw layer.

Names and citizen IDs stay in ``raw``; everywhere else a household is
``HMAC-SHA256(POVERTY_PII_KEY, '<commune code>:<household code>')`` (dbt macro
``household_key``). The key comes from the environment only. The warehouse keeps the HMAC's
inner and outer pads in ``pii.hmac_pads``, a table only the warehouse owner can read, so dbt
can compute the hash in SQL without the key appearing in any compiled SQL, log or file.
Changing the key re-keys every household at the next build, so the set-up refuses to replace
pads written under another key unless asked to (``poverty pii-rekey``).
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
FINGERPRINT_MESSAGE = b"poverty_pipeline key check"


def secret_key() -> bytes:
    """``POVERTY_PII_KEY``: every process that keys households must have the same key, so a
    missing one is an error, never a key made up on the spot."""
    key = os.environ.get(KEY_ENV)
    if not key:
        raise RuntimeError(
            f"{KEY_ENV} is not set: give the key that stands for households outside raw "
            "(the same for every Airflow component); the command line keeps a local one in "
            f"{DEV_KEY_FILE} for the embedded warehouse"
        )
    return key.encode("utf-8")


def local_key() -> str:
    """The key of local runs on the embedded warehouse (``make run``), made once and kept in
    ``.local/pii_key`` (readable by its owner only). Never for a server warehouse: its key
    is the deployment's, given in ``POVERTY_PII_KEY``."""
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


class KeyMismatch(RuntimeError):
    """The warehouse's pads were written under another key than ``POVERTY_PII_KEY``."""


def fingerprint(inner: bytes, outer: bytes) -> str:
    """A check value of the key behind these pads: the start of its HMAC of a fixed message
    (computed from the pads, so the key itself is never needed or shown)."""
    return hashlib.sha256(outer + hashlib.sha256(inner + FINGERPRINT_MESSAGE).digest()).hexdigest()[:12]


def key_fingerprint(key: bytes | None = None) -> str:
    return fingerprint(*pads(key or secret_key()))


def stored_fingerprint(conn: psycopg.Connection) -> str | None:
    """The check value of the key the warehouse's pads were written under; None before any."""
    if conn.execute("select to_regclass('pii.hmac_pads')").fetchone()[0] is None:
        return None
    row = conn.execute("select inner_pad, outer_pad from pii.hmac_pads").fetchone()
    return fingerprint(bytes(row[0]), bytes(row[1])) if row else None


def check_key(conn: psycopg.Connection) -> None:
    """Raise ``KeyMismatch`` when the warehouse's pads were written under another key than
    ``POVERTY_PII_KEY`` (none written yet is fine)."""
    stored, current = stored_fingerprint(conn), key_fingerprint()
    if stored not in (None, current):
        raise KeyMismatch(
            f"{KEY_ENV} is not the key this warehouse's households are keyed with (key check "
            f"{stored} in the warehouse, {current} for this key): give the warehouse's key in "
            f"{KEY_ENV}; to re-key every household on purpose, run `poverty pii-rekey` with the "
            "new key (the next build re-keys them)")


def store_pads(conn: psycopg.Connection, rekey: bool = False) -> None:
    """Write the current key's pads to ``pii.hmac_pads`` (owner-only).

    Pads written under another key are replaced only when ``rekey`` is asked for (``poverty
    pii-rekey``): replacing them re-keys every household at the next build, so a process
    started with a wrong or missing key must fail, not change the warehouse's key.
    """
    inner, outer = pads(secret_key())
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('poverty_pipeline.store_pads'))")
        conn.execute("create schema if not exists pii")
        conn.execute("revoke all on schema pii from public")
        conn.execute("create table if not exists pii.hmac_pads (inner_pad bytea not null, "
                     "outer_pad bytea not null, singleton boolean primary key default true "
                     "check (singleton))")
        conn.execute("revoke all on pii.hmac_pads from public")
        if not rekey:
            check_key(conn)
        conn.execute(
            "insert into pii.hmac_pads (inner_pad, outer_pad) values (%s, %s) "
            "on conflict (singleton) do update set inner_pad = excluded.inner_pad, "
            "outer_pad = excluded.outer_pad "
            "where (pii.hmac_pads.inner_pad, pii.hmac_pads.outer_pad) "
            "is distinct from (excluded.inner_pad, excluded.outer_pad)",
            (inner, outer),
        )
        # One row, but the planner must know it: never analysed, the table is guessed at ~870
        # rows, and the households crossed with it are over-estimated by that factor downstream.
        conn.execute("analyze pii.hmac_pads")
