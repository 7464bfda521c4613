"""A real DANE worker for compatibility tests: a subclass of the `dane` 0.4.3 base worker from PyPI, unmodified.

Run it with the interpreter of test/compat/.venv (see setup.sh); test/support/python-worker.ts does that.

    python -u worker.py --key ECHO --queue ECHO [--depends-on A,B] [--reply-state 200] [--save-result]

Environment: DANE_ES_URL (the worker gateway, e.g. http://elastic:changeme@127.0.0.1:9201: the library's
Elasticsearch 7 client only talks to something that passes its product check), DANE_ES_INDEX (dane-index),
DANE_AMQP_URL (amqp://guest:guest@127.0.0.1:5672), DANE_EXCHANGE (DANE-exchange), DANE_RESPONSE_QUEUE
(DANE-response-queue). The library only reads its settings from config files, so this script writes a config.yml
into a fresh working directory and imports the library from there (spec §8.1).

Protocol on stdout, one JSON object per line (the library's own logging goes to stderr):
    {"event": "ready", "queue": ..., "binding_keys": [...], "generator": {...}|null}   once bound and consuming
    {"event": "received", "routing_key", "exchange", "properties": {...}, "body": <raw>, "task", "document"}
    {"event": "result", "task_id", "result_id", "generator", "payload"}                  after Result.save
    {"event": "replied", "correlation_id", "reply_to", "reply": <what the library published>}
The ready line is preceded by the plain line `WORKER READY`. SIGTERM/SIGINT, or EOF on stdin with
--exit-on-stdin-eof, stop the worker cleanly (exit code 0).
"""

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import unquote, urlparse

_print_lock = threading.Lock()


def emit(event: str, **fields) -> None:
    line = json.dumps({"event": event, **fields}, default=str)
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--key", required=True, help="task key; the binding key is #.<KEY>")
    p.add_argument("--queue", help="worker queue name (default: the key)")
    p.add_argument("--binding-key", action="append", help="explicit binding key(s) instead of #.<KEY>")
    p.add_argument("--depends-on", default="", help="comma-separated task keys (depends_on)")
    p.add_argument("--reply-state", type=int, default=200, help="state the callback returns")
    p.add_argument("--reply-message", help="message the callback returns (default: Success / 'Replied <state>')")
    p.add_argument("--reply-as-string", action="store_true",
                   help="return the reply as a JSON string, as the lib's filesize example does (double-encoded)")
    p.add_argument("--save-result", action="store_true", help="save a Result through the library before replying")
    p.add_argument("--delay-ms", type=int, default=0, help="sleep this long inside the callback")
    p.add_argument("--purge", action="store_true", help="purge the worker queue before consuming")
    p.add_argument("--delete-queue", action="store_true", help="delete the worker queue when stopping")
    p.add_argument("--no-generator", action="store_true",
                   help="run outside a git repository, so the library leaves the generator null")
    p.add_argument("--exit-on-stdin-eof", action="store_true", help="stop when stdin closes (parent died)")
    return p.parse_args()


def write_config(workdir: str) -> None:
    es = urlparse(os.environ.get("DANE_ES_URL", "http://elastic:changeme@127.0.0.1:9201"))
    amqp = urlparse(os.environ.get("DANE_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672"))
    if amqp.scheme != "amqp" or amqp.path not in ("", "/"):
        sys.exit(f"DANE_AMQP_URL must be amqp://user:pass@host:port with the default vhost, got {amqp.geturl()}")
    config = {
        "RABBITMQ": {
            "HOST": amqp.hostname or "localhost",
            "PORT": amqp.port or 5672,
            "USER": unquote(amqp.username or "guest"),
            "PASSWORD": unquote(amqp.password or "guest"),
            "EXCHANGE": os.environ.get("DANE_EXCHANGE", "DANE-exchange"),
            "RESPONSE_QUEUE": os.environ.get("DANE_RESPONSE_QUEUE", "DANE-response-queue"),
        },
        "ELASTICSEARCH": {
            "HOST": [es.hostname or "localhost"],
            "PORT": es.port or (443 if es.scheme == "https" else 9200),
            "SCHEME": es.scheme or "http",
            # The library always sends basic auth: the gateway checks it.
            "USER": unquote(es.username or ""),
            "PASSWORD": unquote(es.password or ""),
            "INDEX": os.environ.get("DANE_ES_INDEX", "dane-index"),
            # Only used if the worker is the one creating the index (single local node).
            "REPLICAS": 0,
            "MAX_RETRIES": 0,
            "TIMEOUT": 10,
        },
        "PATHS": {"TEMP_FOLDER": os.path.join(workdir, "TEMP"), "OUT_FOLDER": os.path.join(workdir, "OUT")},
        "LOGGING": {"DIR": os.path.join(workdir, "logs")},
    }
    # JSON is YAML, and yacs reads it with yaml.safe_load.
    with open(os.path.join(workdir, "config.yml"), "w") as f:
        json.dump(config, f, indent=2)


def make_git_repo(workdir: str, queue: str) -> None:
    """The base worker fills its generator from `git` in the cwd (spec §5): give it a repo with a commit and an
    origin remote, like a worker deployed from a checkout."""
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=workdir, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    git("init", "-q")
    git("remote", "add", "origin", f"https://example.org/dane-compat/{queue.lower()}-worker.git")
    git("-c", "user.name=DANE compat", "-c", "user.email=compat@example.org",
        "commit", "-q", "--allow-empty", "-m", "compat worker")


def main() -> int:
    args = parse_args()
    key = args.key.upper()
    queue = args.queue or key
    binding_keys = args.binding_key or [f"#.{key}"]
    depends_on = [k for k in args.depends_on.split(",") if k]

    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    logging.getLogger("elasticsearch").setLevel(logging.WARNING)

    workdir = tempfile.mkdtemp(prefix=f"dane-worker-{queue}-")
    home = os.path.join(workdir, "home")
    os.makedirs(home)
    # dane.config reads $DANE_HOME/config.yml (else ~/.DANE/config.yml) and then ./config.yml at import time.
    # An empty DANE_HOME keeps a developer's own ~/.DANE/config.yml out of the tests.
    os.environ["DANE_HOME"] = home
    write_config(workdir)
    if not args.no_generator:
        make_git_repo(workdir, queue)
    os.chdir(workdir)

    from dane import Result
    from dane.base_classes import base_worker
    from dane.config import cfg

    class CompatWorker(base_worker):
        def _inspect_then_run_task(self, ch, method, props, body):
            # Record the message exactly as the library received it, before it parses anything.
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = None
            emit(
                "received",
                routing_key=method.routing_key,
                exchange=method.exchange,
                redelivered=method.redelivered,
                properties={
                    "correlation_id": props.correlation_id,
                    "reply_to": props.reply_to,
                    "priority": props.priority,
                    "delivery_mode": props.delivery_mode,
                    "content_type": props.content_type,
                    "headers": props.headers,
                    "message_id": props.message_id,
                    "timestamp": props.timestamp,
                    "expiration": props.expiration,
                },
                body=body.decode("utf-8", "replace") if decoded is None else None,
                task=decoded.get("task") if isinstance(decoded, dict) else None,
                document=decoded.get("document") if isinstance(decoded, dict) else None,
            )
            return super()._inspect_then_run_task(ch, method, props, body)

        def _ack_and_reply(self, response, ch, method, props):
            super()._ack_and_reply(response, ch, method, props)
            emit("replied", correlation_id=props.correlation_id, reply_to=props.reply_to, reply=response)

        def callback(self, task, document):
            if args.delay_ms:
                time.sleep(args.delay_ms / 1000)
            if args.save_result:
                payload = {"echo": task.args, "document_id": document._id, "task_id": task._id, "key": task.key}
                result = Result(self.generator, payload, api=self.handler)
                result.save(task._id)
                emit("result", task_id=task._id, result_id=result._id, generator=result.generator,
                     payload=payload)
            state = args.reply_state
            message = args.reply_message or ("Success" if state == 200 else f"Replied {state}")
            reply = {"state": state, "message": message}
            return json.dumps(reply) if args.reply_as_string else reply

    worker = CompatWorker(queue, binding_keys, cfg, depends_on=depends_on)
    if args.purge:
        worker.channel.queue_purge(queue)

    def stop(*_):
        if not worker._is_interrupted:
            worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_on_stdin_eof:
        def watch_stdin():
            while sys.stdin.buffer.read(4096):
                pass
            worker.connection.add_callback_threadsafe(stop)

        threading.Thread(target=watch_stdin, daemon=True).start()

    print("WORKER READY", flush=True)
    emit("ready", queue=queue, binding_keys=binding_keys, depends_on=depends_on, generator=worker.generator,
         index=cfg.ELASTICSEARCH.INDEX, exchange=cfg.RABBITMQ.EXCHANGE, workdir=workdir)
    worker.run()

    # run() returns within a second of stop(); leave the broker tidy.
    try:
        worker.channel.cancel()
        if args.delete_queue:
            worker.channel.queue_delete(queue)
        worker.connection.close()
    except Exception:
        logging.getLogger("DANE").exception("Error while closing the AMQP connection")
    emit("stopped", queue=queue)
    os.chdir("/")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
