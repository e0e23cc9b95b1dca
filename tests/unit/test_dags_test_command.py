"""The command ``poverty run`` runs each DAG with: ``airflow dags test`` whose process leaves its
objects out of the interpreter's final garbage collection."""

from __future__ import annotations

import os
import subprocess
import sys

# Registered before the command's own handler, so it runs after it (atexit is last in, first out).
PROBE = """
import atexit, gc, sys
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0, flush=True))
sys.argv = ["dags_test", *sys.argv[1:]]
from poverty_pipeline.orchestration.dags_test import main
main()
"""


def test_the_command_is_airflow_dags_test_and_freezes_its_objects_at_exit():
    done = subprocess.run([sys.executable, "-c", PROBE, "no_such_dag"], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)
    # Airflow's verdict on a DAG it cannot run (here without even a metadata database), passed on
    assert done.returncode == 1
    assert "airflow" in done.stdout + done.stderr
    assert "frozen at exit: True" in done.stdout
