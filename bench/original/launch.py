"""Runs the original DANE-server 0.3.1 (from PyPI) for the benchmark, against the bench's own index, vhost,
exchange, response queue and port.

    python launch.py api      # the Flask API (dane_server.api), as its main() starts it, without the reloader
    python launch.py server   # the reply listener + task scheduler process (dane_server.server)

Environment: ORIG_WORKDIR (config.yml and logs go there), ORIG_ES_URL, ORIG_INDEX, ORIG_AMQP_URL (the vhost is
taken from its path), ORIG_EXCHANGE, ORIG_RESPONSE_QUEUE, ORIG_PORT, ORIG_LOG_LEVEL.

Three things differ from a stock start, all harness concerns, none touching the code paths measured:
- elasticsearch7 >= 7.14 refuses OpenSearch ("not a supported distribution"): its transports are marked as verified
  before the first request, in this process only;
- the library connects to the default vhost only: pika's connection parameters get the bench's vhost;
- `server`: 0.3.1 never attaches the reply callback to its listener (spec 6.2, replies are acked and dropped).
  The replies workload needs replies applied, so the listener gets the handler's callback, as the server did
  before September 2022. Everything else is server.py's main(): the same listener, the same scheduler thread.
"""

import json
import os
import sys
from urllib.parse import unquote, urlparse


def write_config(workdir: str) -> None:
    es = urlparse(os.environ["ORIG_ES_URL"])
    amqp = urlparse(os.environ["ORIG_AMQP_URL"])
    config = {
        "DANE": {"HOST": "127.0.0.1", "PORT": int(os.environ["ORIG_PORT"])},
        "RABBITMQ": {
            "HOST": amqp.hostname or "localhost",
            "PORT": amqp.port or 5672,
            "USER": unquote(amqp.username or "guest"),
            "PASSWORD": unquote(amqp.password or "guest"),
            "EXCHANGE": os.environ["ORIG_EXCHANGE"],
            "RESPONSE_QUEUE": os.environ["ORIG_RESPONSE_QUEUE"],
        },
        "ELASTICSEARCH": {
            "HOST": [es.hostname or "localhost"],
            "PORT": es.port or 9200,
            "SCHEME": es.scheme or "http",
            "USER": unquote(es.username or ""),
            "PASSWORD": unquote(es.password or ""),
            "INDEX": os.environ["ORIG_INDEX"],
            # A single local node: a replica could never be assigned (ours is created the same way).
            "REPLICAS": 0,
        },
        "LOGGING": {"DIR": os.path.join(workdir, "logs"), "LEVEL": os.environ.get("ORIG_LOG_LEVEL", "INFO")},
    }
    # JSON is YAML; yacs reads config.yml with yaml.safe_load (spec 8.1).
    with open(os.path.join(workdir, "config.yml"), "w") as f:
        json.dump(config, f, indent=2)


def patch_clients() -> None:
    from elasticsearch7 import transport

    original_init = transport.Transport.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self._verified_elasticsearch = True

    transport.Transport.__init__ = init

    import pika

    vhost = unquote(urlparse(os.environ["ORIG_AMQP_URL"]).path[1:]) or "/"
    base = pika.ConnectionParameters

    class WithVhost(base):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("virtual_host", vhost)
            super().__init__(*args, **kwargs)

    pika.ConnectionParameters = WithVhost


def main() -> int:
    role = sys.argv[1] if len(sys.argv) > 1 else ""
    if role not in ("api", "server"):
        sys.exit("usage: launch.py api|server")
    workdir = os.environ["ORIG_WORKDIR"]
    home = os.path.join(workdir, "home")
    os.makedirs(home, exist_ok=True)
    # dane.config reads $DANE_HOME/config.yml, then ./config.yml, at import time.
    os.environ["DANE_HOME"] = home
    write_config(workdir)
    os.chdir(workdir)
    patch_clients()

    if role == "api":
        from dane.config import cfg
        from dane_server.api import app

        # api.main() with use_reloader=False: the reloader only forks a file watcher.
        app.run(port=cfg.DANE.PORT, host=cfg.DANE.HOST, use_reloader=False)
        return 0

    import dane_server.server as server
    from dane_server.handler import Handler
    from dane_server.RabbitMQListener import RabbitMQListener

    class ListenerWithCallback(RabbitMQListener):
        def __init__(self, config):
            super().__init__(config)
            # What server.py did before Sep 2022: a handler whose constructor attaches its callback.
            Handler(config=config, queue=self)

    server.RabbitMQListener = ListenerWithCallback
    server.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
