"""``airflow dags test``, as ``poverty run``, the benchmark and the tests run a DAG, without the
interpreter's last garbage collection.

After the warehouse build the process holds dbt's manifest, cosmos' task graph and Airflow's
models; the collection Python runs on the way out went through all of them once more and took
1.5–3 s after the DAG had finished, while the memory is returned whole at exit anyway.

    python -m poverty_pipeline.orchestration.dags_test <dag_id> [options of airflow dags test]
"""

from __future__ import annotations

import atexit
import gc
import sys


def main() -> None:
    # atexit runs the last-registered handler first, so this one runs after Airflow's own (its
    # database sessions closed, its logs flushed): what exists then is moved out of the
    # collector's reach, and the final collection has next to nothing to visit.
    atexit.register(gc.freeze)
    from airflow.__main__ import main as airflow

    sys.argv = ["airflow", "dags", "test", *sys.argv[1:]]
    sys.exit(airflow())


if __name__ == "__main__":
    main()
