"""Who can read what: connected as ``bi_reader`` to a real warehouse built by ingest and dbt, the
role reads the marts (also after dbt recreates them) and nothing else — not one household name
or citizen ID anywhere; the set-up alters only a role it created (marked), never downgrading its
login; no credential is written in the repository; and every typical dashboard query has an index
to use."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
from support.builders import household, json_bytes, land, submission
from support.databases import create_database, drop_database
from support.pipeline_helpers import build_marts, dbt, ingest

from poverty_pipeline.reporting.dashboard_queries import QUERIES, measure, plans_without_index
from poverty_pipeline.warehouse.database import (
    BI_PASSWORD_ENV,
    BI_ROLE_ENV,
    ROLE_MARK,
    connect,
    ensure_schema,
)

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["Huỳnh Thị Bảo Ngọc", "Trương Văn Khải"]
CITIZEN_IDS = ["082199001234", "082188005678"]


def as_role(url: str, role: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{role}:{quote(password, safe='')}@{host}"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    # A role of its own: roles are per server, and other warehouses' set-ups on this server
    # (other tests) set bi_reader's login from their own environment.
    role = f"bi_reader_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    saved = {name: os.environ.get(name) for name in (BI_PASSWORD_ENV, BI_ROLE_ENV)}
    os.environ.update({BI_PASSWORD_ENV: password, BI_ROLE_ENV: role})
    name, url = create_database("poverty_access")
    landing = tmp_path_factory.mktemp("landing")
    for i, commune in enumerate(("28249", "28252")):
        land(landing, f"{commune}.json", json_bytes(submission(ma_xa=commune, households=[
            household("HO001", ho_ten_chu_ho=NAMES[i], so_dinh_danh_chu_ho=CITIZEN_IDS[i],
                      thu_nhap_binh_quan=1_000_000, phan_loai_cua_xa="ngheo"),
            household("HO002"),
        ])))
    ingest(url, landing)
    target = tmp_path_factory.mktemp("dbt")
    build_marts(url, target)
    yield {"url": url, "bi_url": as_role(url, role, password), "target": target, "role": role}
    drop_database(name)
    with psycopg.connect(os.environ["POVERTY_TEST_SERVER_URL"], autocommit=True) as conn:
        conn.execute(f'drop role if exists "{role}"')
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def relations(url: str) -> list[tuple[str, str]]:
    with connect(url) as conn:
        return conn.execute(
            "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where c.relkind in ('r', 'v', 'm', 'p') "
            "and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast' "
            "order by 1, 2"
        ).fetchall()


def test_the_raw_data_holds_the_names_the_role_must_not_see(built):
    with connect(built["url"]) as conn:
        rows = conn.execute(
            "select ho_ten_chu_ho, so_dinh_danh_chu_ho from raw.commune_households").fetchall()
    assert {r[0] for r in rows} >= set(NAMES) and {r[1] for r in rows} >= set(CITIZEN_IDS)


def test_bi_reader_reads_the_marts(built):
    with psycopg.connect(built["bi_url"]) as conn:
        count = conn.execute("select count(*) from marts.fct_poverty_indicators").fetchone()[0]
        areas = conn.execute("select count(*) from marts.rpt_poverty_indicators_by_area").fetchone()[0]
    assert count == 2 * 3 and areas > count  # 2 communes × 3 standards; plus district, province


def test_bi_reader_reads_nothing_outside_the_marts(built):
    outside = [(s, t) for s, t in relations(built["url"]) if s != "marts"]
    assert {s for s, _ in outside} >= {"raw", "audit", "staging", "intermediate", "reference", "quality"}
    readable = []
    with psycopg.connect(built["bi_url"], autocommit=True) as conn:
        for schema, table in outside:
            try:
                conn.execute(f'select 1 from "{schema}"."{table}" limit 1')
                readable.append(f"{schema}.{table}")
            except psycopg.errors.InsufficientPrivilege:
                pass
    assert readable == []


def test_no_name_or_citizen_id_in_anything_bi_reader_can_read(built):
    seen = 0
    with psycopg.connect(built["bi_url"], autocommit=True) as conn:
        for schema, table in relations(built["url"]):
            try:
                rows = conn.execute(f'select t::text from "{schema}"."{table}" as t').fetchall()
            except psycopg.errors.InsufficientPrivilege:
                continue
            seen += 1
            text = "\n".join(r[0] for r in rows)
            for secret in NAMES + CITIZEN_IDS:
                assert secret not in text, f"{schema}.{table} shows {secret}"
    assert seen >= 4  # the marts were read


def test_marts_dbt_recreates_stay_readable(built):
    dbt(built["url"], built["target"], "run", "--select", "fct_poverty_indicators", "dim_commune")
    with psycopg.connect(built["bi_url"]) as conn:
        assert conn.execute("select count(*) from marts.fct_poverty_indicators").fetchone()[0] == 6
        assert conn.execute("select count(*) from marts.dim_commune").fetchone()[0] > 0


def test_every_dashboard_query_has_an_index_to_use(built):
    with psycopg.connect(built["bi_url"]) as conn:
        assert plans_without_index(conn) == {}
        figures = measure(built["bi_url"], repeats=5)
    assert set(figures) == {*QUERIES, "all"}


def test_a_mart_built_without_its_indexes_is_reported(built):
    with psycopg.connect(built["url"]) as conn, conn.transaction(force_rollback=True):
        for (index,) in conn.execute("select indexname from pg_indexes where schemaname = 'marts'"
                                     " and tablename = 'rpt_household_profiles_by_area'").fetchall():
            conn.execute(f'drop index marts."{index}"')
        assert set(plans_without_index(conn)) == {"household_profile"}


def role_state(role: str) -> tuple | None:
    """(can log in, password hash, comment) of a role, as the server keeps them."""
    with psycopg.connect(os.environ["POVERTY_TEST_SERVER_URL"]) as conn:
        return conn.execute(
            "select rolcanlogin, rolpassword, shobj_description(oid, 'pg_authid') from pg_authid"
            " where rolname = %s", (role,)).fetchone()


@pytest.fixture
def set_up_as(built, monkeypatch):
    """Run the warehouse set-up on the built warehouse for a role name and password (None:
    unset); the role is dropped afterwards."""
    roles = []

    def set_up(role: str, password: str | None) -> None:
        roles.append(role)
        monkeypatch.setenv(BI_ROLE_ENV, role)
        if password is None:
            monkeypatch.delenv(BI_PASSWORD_ENV, raising=False)
        else:
            monkeypatch.setenv(BI_PASSWORD_ENV, password)
        with connect(built["url"], autocommit=True) as conn:
            ensure_schema(conn)

    yield set_up
    with psycopg.connect(os.environ["POVERTY_TEST_SERVER_URL"], autocommit=True) as server, \
            psycopg.connect(built["url"], autocommit=True) as conn:
        for role in set(roles):
            conn.execute(f'drop owned by "{role}"')
            server.execute(f'drop role if exists "{role}"')


def test_a_role_the_set_up_creates_is_marked_and_never_loses_its_login(set_up_as):
    role = f"bi_reader_{secrets.token_hex(4)}"
    set_up_as(role, None)
    assert role_state(role) == (False, None, ROLE_MARK)  # created without a password: NOLOGIN
    set_up_as(role, "first password")
    login, hashed, mark = role_state(role)
    assert login and hashed.startswith("SCRAM-SHA-256$") and mark == ROLE_MARK
    set_up_as(role, None)  # a set-up without the password: nothing changes, LOGIN stays
    assert role_state(role) == (True, hashed, ROLE_MARK)
    set_up_as(role, "second password")  # a new password is ours to set
    assert role_state(role)[:1] == (True,) and role_state(role)[1] != hashed


def test_the_set_up_never_changes_a_role_it_did_not_create(built, set_up_as):
    """A server-wide role of the same name that someone else made (here with LOGIN and a
    password) keeps its login and password, with or without POVERTY_BI_READER_PASSWORD, and
    still gets the grants: marts readable, nothing else."""
    role = f"bi_reader_{secrets.token_hex(4)}"
    with psycopg.connect(os.environ["POVERTY_TEST_SERVER_URL"], autocommit=True) as conn:
        conn.execute(f"create role \"{role}\" login password 'theirs'")
    before = role_state(role)
    assert before[0] and before[2] is None
    for password in (None, "ours"):
        set_up_as(role, password)
        assert role_state(role) == before, password
    with psycopg.connect(as_role(built["url"], role, "theirs"), autocommit=True) as conn:
        assert conn.execute("select count(*) from marts.fct_poverty_indicators").fetchone()[0] == 6
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select 1 from raw.commune_households limit 1")


# --- no credentials in the repository -----------------------------------------------------

# A value that is a reference, not a secret: ${VAR}, {{ env_var(...) }}, $VAR, an f-string
# field, or a placeholder of .env.example and of the docs (`user:pw@host`).
PLACEHOLDER = re.compile(r"^(\$|\{|<|change-me|pw$|password$|\*+$|$)", re.IGNORECASE)
URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:([^@\s'\"]+)@", re.IGNORECASE)
ASSIGNED_SECRET = re.compile(
    r"""(?ix)\b[\w.-]*(password|passwd|pwd|secret|api_?key|token)['"]?\s*[:=]\s*(?P<q>['"]?)(?P<v>[^\s'",}]*)"""
)
REFERENCE = re.compile(r"\$\{[^}]*\}|\{\{.*?\}\}")  # ${VAR:?message}, {{ env_var(...) }}
SCANNED = re.compile(r"\.(py|ya?ml|json|toml|cfg|ini|sql|sh|md|example)$|(^|/)(Dockerfile|Makefile)$")
# Tests run against throw-away servers with throw-away values; the lock file lists hashes.
NOT_SCANNED = ("tests/", "requirements.lock")


def repository_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\n")
    return [ROOT / p for p in listed if p and SCANNED.search(p) and not p.startswith(NOT_SCANNED)
            and (ROOT / p).is_file()]


def embedded_credentials(text: str, code: bool = False) -> list[str]:
    """Lines that write a password or secret into the file. In ``code`` only quoted literals
    count (``password=password`` passes a variable on)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = REFERENCE.sub("${}", line.replace("\\", ""))
        urls = [m.group(1) for m in URL_PASSWORD.finditer(line)]
        assigned = [m.group("v") for m in ASSIGNED_SECRET.finditer(line) if m.group("q") or not code]
        if any(not PLACEHOLDER.match(value) for value in urls + assigned):
            found.append(f"{number}: {line.strip()}")
    return found


def test_the_scanner_finds_embedded_credentials():
    assert embedded_credentials("url: postgresql://poverty:s3cr3t@warehouse/poverty")
    assert embedded_credentials("      password: hunter2")
    assert embedded_credentials('PGPASSWORD="x9y8"', code=True)
    assert embedded_credentials("connect(password='x9y8')", code=True)
    assert not embedded_credentials("connect(password=password)", code=True)
    assert not embedded_credentials('password: "{{ env_var(\'POVERTY_DB_PASSWORD\', \'\') }}"')
    assert not embedded_credentials("postgresql://poverty:${WAREHOUSE_PASSWORD:?set it in .env}@warehouse/p")
    assert not embedded_credentials("WAREHOUSE_PASSWORD=change-me")


def test_no_credentials_in_the_repository():
    files = repository_files()
    names = {p.name for p in files}
    assert {"profiles.yml", "docker-compose.yml", ".env.example", "gate.py"} <= names
    found = {}
    for path in files:
        hits = embedded_credentials(path.read_text("utf-8", errors="replace"), code=path.suffix == ".py")
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    assert found == {}
