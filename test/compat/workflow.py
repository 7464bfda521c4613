"""Runs dane-workflows 0.2.3 (PyPI, unmodified) against the server: its own TaskScheduler, SQLiteStatusHandler,
ExampleDataProvider, DANEEnvironment and ExampleExporter, configured as its README and config-example describe.

Run it with the interpreter of test/compat/.venv-workflows (see setup.sh):

    python -u workflow.py --api 127.0.0.1:5500 --es-host 127.0.0.1 --es-port 9201 --index dane-index \
        --task ASR --prefix my-batch --items items.json --workdir /tmp/run1

items.json is a list of {"id", "url"} (the ExampleDataProvider's DATA). The last line on stdout is a JSON summary:
{"exit": <code of the scheduler run>, "rows": [{"target_id", "status", "proc_id", "proc_batch_id"}...]}.
"""

import argparse
import json
import logging
import os
import sys


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--api", required=True, help="host:port of the DANE API (DANE_HOST)")
    p.add_argument("--es-host", required=True, help="host of the index endpoint (the worker gateway)")
    p.add_argument("--es-port", type=int, required=True)
    p.add_argument("--index", required=True)
    p.add_argument("--task", required=True, help="the leaf task key (a dane_util.TaskType, e.g. ASR)")
    p.add_argument("--prefix", required=True, help="DANE_BATCH_PREFIX: the creator.id is <prefix>_<batch>")
    p.add_argument("--items", required=True)
    p.add_argument("--workdir", required=True)
    args = p.parse_args()

    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with open(args.items) as f:
        items = json.load(f)
    os.makedirs(args.workdir, exist_ok=True)
    # dane (imported by dane-workflows) reads $DANE_HOME/config.yml at import: keep a developer's own out.
    os.environ["DANE_HOME"] = args.workdir

    config = {
        "TASK_SCHEDULER": {"BATCH_SIZE": len(items)},
        "STATUS_HANDLER": {
            "TYPE": "dane_workflows.status.SQLiteStatusHandler",
            "CONFIG": {"DB_FILE": os.path.join(args.workdir, "status.db")},
        },
        "DATA_PROVIDER": {
            "TYPE": "dane_workflows.data_provider.ExampleDataProvider",
            "CONFIG": {"SOURCE_BATCH_SIZE": len(items), "DATA": items},
        },
        "PROC_ENV": {
            "TYPE": "dane_workflows.data_processing.DANEEnvironment",
            "CONFIG": {
                "DANE_HOST": args.api,
                "DANE_TASK_ID": args.task,
                "DANE_STATUS_DIR": os.path.join(args.workdir, "dane-status"),
                "DANE_MONITOR_INTERVAL": 1,
                "DANE_ES_HOST": args.es_host,
                "DANE_ES_PORT": args.es_port,
                "DANE_ES_INDEX": args.index,
                "DANE_ES_QUERY_TIMEOUT": 20,
                "DANE_BATCH_PREFIX": args.prefix,
            },
        },
        "EXPORTER": {"TYPE": "dane_workflows.exporter.ExampleExporter"},
    }

    from dane_workflows.runner import construct_task_scheduler

    code = 0
    scheduler = construct_task_scheduler(config)
    try:
        scheduler.run()
    except SystemExit as e:  # the scheduler quits with sys.exit() when something is wrong
        code = e.code if isinstance(e.code, int) else 1

    rows = scheduler.status_handler.get_status_rows_of_proc_batch(0) or []
    print(json.dumps({
        "exit": code,
        "rows": [
            {"target_id": r.target_id, "status": r.status.name, "proc_id": r.proc_id,
             "proc_batch_id": r.proc_batch_id, "proc_status_msg": r.proc_status_msg}
            for r in rows
        ],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
