"""`poverty ui`'s components for real: every one the UI reports on is healthy, the sign-in page is
served, the generated password signs in, and stopping leaves no process behind."""

from __future__ import annotations

import json
import socket
import urllib.request

import psutil

from poverty_pipeline.orchestration import runner
from poverty_pipeline.reporting import outputs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_local_ui_serves_the_sign_in_page_with_every_component_healthy(warehouse, landing, tmp_path):
    port = free_port()
    home = tmp_path / "airflow"
    env = runner.ui_env(warehouse, landing.as_uri(), port, home=home)
    runner.migrate(env)
    ui = runner.LocalUi(env, port, log_dir=tmp_path / "logs")
    ui.start()
    try:
        ui.wait_healthy(timeout=240)
        assert ui.health() == dict.fromkeys(runner.HEALTH_KEYS, "healthy")
        with urllib.request.urlopen(f"{outputs.ui_url(port)}/auth/login", timeout=30) as page:
            assert page.status == 200 and b"<title>Airflow</title>" in page.read()
        password = json.loads((home / outputs.PASSWORDS_FILE).read_text())[outputs.UI_USER]
        request = urllib.request.Request(
            f"{outputs.ui_url(port)}/auth/token", method="POST",
            data=json.dumps({"username": outputs.UI_USER, "password": password}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as token:
            assert json.loads(token.read())["access_token"]
        pids = [p.pid for p in ui.processes.values()]
    finally:
        ui.stop()
    assert not [pid for pid in pids if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
