"""The production stack's sign-in, run for real: an `airflow api-server` with the FAB auth manager
configured as docker-compose.yml configures it, its users and roles made by the commands of the
compose file's airflow-init, and the district officers' role checked against the API and the
pages. Then the Data Docs in Chromium, signed in, with every host but this one unreachable:
styled from the site's own libraries, under their Content-Security-Policy, their links
followed."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from support.builders import land, submission, xlsx_bytes
from support.databases import create_database, drop_database
from support.pipeline_helpers import ingest

from poverty_pipeline.orchestration import runner

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICE_ENV = COMPOSE["services"]["airflow-apiserver"]["environment"]
CHROMIUM = "/usr/bin/chromium"
ROLE = "District officer"

pytestmark = pytest.mark.airflow


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def init_commands() -> list[str]:
    """The `airflow …` commands of airflow-init's script, as the container's shell runs them
    (compose's ``$$`` is ``$``; continued lines joined)."""
    script = COMPOSE["services"]["airflow-init"]["command"][-1].replace("$$", "$")
    lines = re.sub(r"\\\n\s*", " ", script).splitlines()
    return [line.split("  #")[0].strip() for line in lines if line.strip().startswith("airflow ")]


def request(url: str, token: str | None = None, method: str = "GET", body: dict | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method),
                                    timeout=60) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-fab")
    landing = tmp_path_factory.mktemp("landing")
    site = home / "data_docs"
    name, url = create_database("poverty_fab")
    env = runner.airflow_env(url, landing.as_uri(), home=home)
    # passwords that begin with "-", as token_urlsafe (the one .env.example suggests) gives one in 64
    passwords = {"admin": "-" + secrets.token_urlsafe(12), "officer": "-" + secrets.token_urlsafe(12)}
    env.update({
        # as the compose file configures the API server
        "AIRFLOW__CORE__AUTH_MANAGER": SERVICE_ENV["AIRFLOW__CORE__AUTH_MANAGER"],
        "AIRFLOW__FAB__CUSTOM_ROLES": SERVICE_ENV["AIRFLOW__FAB__CUSTOM_ROLES"],
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(24),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(24),
        "POVERTY_DATA_DOCS_DIR": str(site),
        "POVERTY_GX_STORE_DIR": str(home / "gx_store"),
        "AIRFLOW_ADMIN_USERNAME": "admin", "AIRFLOW_ADMIN_EMAIL": "admin@example.org",
        "AIRFLOW_ADMIN_PASSWORD": passwords["admin"],
    })
    # a Data Docs site as the ingest writes it (and localises it)
    saved = {k: os.environ.get(k) for k in ("POVERTY_DATA_DOCS_DIR", "POVERTY_GX_STORE_DIR")}
    os.environ.update({k: env[k] for k in saved})
    try:
        land(landing, "28249_2021.xlsx", xlsx_bytes(submission()))
        land(landing, "28252_2021.xlsx", xlsx_bytes(submission("28252", households=[])))  # rejected
        ingest(url, landing)
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    (home / "dags").mkdir()  # no DAG needed: the pages and the sign-in are under test
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(home / "dags")

    airflow = str(Path(sys.executable).with_name("airflow"))
    commands = init_commands()
    assert [c.split()[1] for c in commands] == ["db", "sync-perm", "users", "users"]
    for command in commands:  # migrate, roles, the admin — exactly as the init runs them
        done = subprocess.run(["bash", "-c", command.replace("airflow ", f"{airflow} ", 1)], env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-3000:])
    done = subprocess.run([airflow, "users", "create", "--role", ROLE, "--username", "officer",
                           f"--password={passwords['officer']}", "--email", "officer@example.org",
                           "--firstname", "Cán bộ", "--lastname", "huyện"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]

    port = free_port()
    log_path = home / "api-server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([airflow, "api-server", "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        assert proc.poll() is None, log_path.read_text()[-4000:]
        try:
            if request(f"{base}/api/v2/version")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, log_path.read_text()[-4000:]
        time.sleep(2)
    tokens = {}
    for user, password in passwords.items():
        status, body, _ = request(f"{base}/auth/token", method="POST",
                                  body={"username": user, "password": password})
        assert status == 201, body
        tokens[user] = json.loads(body)["access_token"]
    yield {"base": base, "tokens": tokens, "site": site, "env": env, "log": log_path}
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    drop_database(name)


def test_the_init_makes_the_admin_from_env_and_the_district_role(stack):
    status, body, _ = request(f"{stack['base']}/auth/fab/v1/roles?limit=100", stack["tokens"]["admin"])
    if status == 404:  # the FAB API's path differs between versions: the CLI says the same
        airflow = str(Path(sys.executable).with_name("airflow"))
        listed = subprocess.run([airflow, "roles", "list", "-o", "json"], env=stack["env"],
                                capture_output=True, text=True, check=True).stdout
        roles = {r["name"] for r in json.loads(listed)}
    else:
        roles = {r["name"] for r in json.loads(body)["roles"]}
    assert {"Admin", "Viewer", ROLE} <= roles
    # a second init changes nothing but the admin's password (from .env)
    env = {**stack["env"], "AIRFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(12)}
    airflow = str(Path(sys.executable).with_name("airflow"))
    for command in init_commands()[1:]:
        done = subprocess.run(["bash", "-c", command.replace("airflow ", f"{airflow} ", 1)], env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stderr[-2000:])
    status, _, _ = request(f"{stack['base']}/auth/token", method="POST",
                           body={"username": "admin", "password": env["AIRFLOW_ADMIN_PASSWORD"]})
    assert status == 201


def test_district_officers_read_the_pages_and_change_nothing(stack):
    base, officer, admin = stack["base"], stack["tokens"]["officer"], stack["tokens"]["admin"]
    # the pages and the nav's entries (the plugins list)
    for page in ("/poverty/submissions", "/poverty/poverty", "/poverty/data-docs/"):
        status, body, _ = request(base + page, officer)
        # the page itself (503 is the page saying the marts are not built yet: none are here)
        assert status in (200, 503) and b"<html" in body[:400].lower(), (page, status, body[:300])
    assert b"Data Docs" in request(f"{base}/poverty/data-docs/", officer)[1]
    status, body, _ = request(f"{base}/api/v2/plugins", officer)
    assert status == 200 and any(p["name"] == "poverty_ui" for p in json.loads(body)["plugins"])
    assert request(f"{base}/api/v2/dags", officer)[0] == 200  # may follow the runs
    # nothing to change, nothing of the deployment to read
    for path, method, body in (
        ("/api/v2/connections", "GET", None),
        ("/api/v2/variables", "GET", None),
        ("/api/v2/config", "GET", None),
        ("/api/v2/pools", "POST", {"name": "x", "slots": 1}),
        ("/api/v2/dags/commune_ingest", "PATCH", {"is_paused": True}),
        ("/api/v2/dags/commune_ingest/dagRuns", "POST", {"logical_date": None}),
        ("/auth/fab/v1/users", "GET", None),
    ):
        status = request(base + path, officer, method, body)[0]
        assert status in (403, 404) and (status == 403 or path.startswith("/auth/fab")), (path, status)
    assert request(f"{base}/api/v2/connections", admin)[0] == 200
    # and nobody signed out
    assert request(f"{base}/poverty/submissions")[0] == 401


def test_the_data_docs_assets_are_served_without_sign_in_and_nothing_else_is(stack):
    base = f"{stack['base']}/poverty/data-docs"
    status, body, headers = request(f"{base}/static/vendor/jquery/dist/jquery.min.js")
    assert status == 200 and b"jQuery" in body[:200]
    assert headers["access-control-allow-origin"] == "*" and headers["x-content-type-options"] == "nosniff"
    font = "static/vendor/@fortawesome/fontawesome-free/webfonts/fa-solid-900.woff2"
    assert request(f"{base}/{font}")[0] == 200
    assert request(f"{base}/static/images/logo-long.png")[0] == 200
    # the pages of the site (validation results) need a signed-in user
    assert request(f"{base}/index.html")[0] == 401
    assert request(f"{base}/")[0] == 401
    for sneaky in ("static/..%2findex.html", "static/%2e%2e/index.html", "static/../index.html"):
        status, body, _ = request(f"{base}/{sneaky}")
        assert status in (401, 404) and b"Validation Results" not in body, sneaky
    assert request(f"{base}/static/vendor/jquery/dist/jquery.min.js", method="POST", body={})[0] == 405


# ------------------------------------------------------------------ Chromium, signed in, offline


class Browser:
    """Headless Chromium driven over the DevTools protocol; every host but 127.0.0.1 is
    unreachable, as on a machine without internet."""

    def __init__(self, profile: Path):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             f"--remote-debugging-port={self.port}", f"--user-data-dir={profile}",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1300,900",
             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=5) as r:
                    pages = [t for t in json.loads(r.read()) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "Chromium did not start"
            time.sleep(0.5)
        from websockets.sync.client import connect

        self.connection = connect(pages[0]["webSocketDebuggerUrl"], max_size=None)
        self.ws = self.connection.__enter__()
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=120))
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {event}"
            try:
                self.events.append(json.loads(self.ws.recv(timeout=remaining)))
            except TimeoutError:
                continue

    def open(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def eval(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def console(self) -> list[str]:
        texts = []
        for e in self.events:
            if e.get("method") == "Log.entryAdded":
                texts.append(e["params"]["entry"]["text"])
            elif e.get("method") == "Runtime.consoleAPICalled":
                texts.append(" ".join(str(a.get("value", "")) for a in e["params"]["args"]))
            elif e.get("method") == "Runtime.exceptionThrown":
                texts.append(e["params"]["exceptionDetails"].get("text", "exception"))
        return texts

    def close(self) -> None:
        self.connection.__exit__(None, None, None)
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(30)


STYLED = """(async () => {
  await document.fonts.ready;
  const logo = document.querySelector('img[src*="logo-long"]');
  return {
    font: getComputedStyle(document.body).fontFamily,
    jquery: typeof window.jQuery === 'function',
    table: !!(window.jQuery && jQuery.fn.bootstrapTable),
    vega: typeof window.vegaEmbed === 'function',
    icons: document.fonts.check('900 16px "Font Awesome 6 Free"'),
    logo: !!logo && logo.complete && logo.naturalWidth > 0,
    resources: performance.getEntriesByType('resource').map(e => e.name),
    title: document.title,
  };
})()"""


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium missing: run `make browser`")
def test_the_data_docs_render_styled_offline_for_a_signed_in_officer(stack, tmp_path):
    base = stack["base"]
    browser = Browser(tmp_path / "profile")
    try:
        # signed in as the UI signs in: the token in the UI's cookie
        assert browser.send("Network.setCookie", name="_token", value=stack["tokens"]["officer"],
                            url=base + "/", httpOnly=True, sameSite="Lax")["success"]
        browser.open(f"{base}/poverty/data-docs/")
        index = browser.eval(STYLED)
        assert "Segoe UI" in index["font"] or "system-ui" in index["font"], index["font"]  # Bootstrap's
        assert index["jquery"] and index["table"] and index["vega"], index
        assert index["icons"] and index["logo"], index
        assert index["resources"] and all(r.startswith(base) for r in index["resources"]), index["resources"]
        problems = [t for t in browser.console()
                    if re.search(r"Content Security Policy|CORS|Failed to load|ERR_", t)]
        assert problems == [], problems
        # a validation of the index's table, opened as a person does (a click on its row, which
        # the page's script follows): from the sandboxed page, the next page comes too
        rows = browser.eval("""(async () => {
            for (let i = 0; i < 50 && !document.querySelector('table tbody tr[data-index]'); i++)
              await new Promise(r => setTimeout(r, 100));
            return document.querySelectorAll('table tbody tr[data-index]').length; })()""")
        assert rows >= 3, "the index lists no validation"
        browser.events.clear()
        browser.eval("document.querySelector('table tbody tr[data-index] td').click()")
        browser.wait_for("Page.loadEventFired")
        assert "/poverty/data-docs/validations/" in browser.eval("location.href")
        page = browser.eval(STYLED)
        assert "Validation" in page["title"] or page["title"], page
        assert page["jquery"] and page["icons"] and page["logo"], page
        assert all(r.startswith(base) for r in page["resources"]), page["resources"]
        body = browser.eval("document.body.innerText")
        assert "Expectation Validation Result" in body and "401" not in body[:200]
        shot = browser.send("Page.captureScreenshot", format="png")["data"]
        (tmp_path / "data_docs.png").write_bytes(__import__("base64").b64decode(shot))
        print(f"screenshot: {tmp_path / 'data_docs.png'}")
    finally:
        browser.close()


def test_the_init_script_is_valid_bash():
    script = COMPOSE["services"]["airflow-init"]["command"][-1].replace("$$", "$")
    done = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert shlex.split(init_commands()[0]) == ["airflow", "db", "migrate"]
