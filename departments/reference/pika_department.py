"""Reference departments as a plain pika worker: `python -m departments.reference.pika_department`.

DEPARTMENTS (comma-separated) names the departments; DEPARTMENT_AMQP_URIS (a JSON
object) the broker URI of each department's user, or BROKER_USERS_SECRET to derive
them (onestop.common.broker_users.consumer_uris), else AMQP_URI for all of them;
DEPARTMENT_METRICS_PORT where /metrics is served. One worker, with its own
connection as its department's user, per department.
"""

import logging
import os
import signal
import sys
import threading

from prometheus_client import Counter, start_http_server

from departments.reference.rules import Rules
from departments.sdk.metrics import RESULT_PUBLISH_FAILURES
from departments.sdk.pika_worker import Worker
from onestop.common.broker_users import consumer_uris
from onestop.common import config
from onestop.common.logs import configure_logging

ANSWERS = Counter(
    "departments_answers_total",
    "Answers given by reference departments",
    ["department", "decision"],
)


def count(kind, department):
    if kind == "publish_failed":
        RESULT_PUBLISH_FAILURES.labels(department).inc()
    else:
        ANSWERS.labels(department, kind).inc()


def main():
    config.refuse_weak_secrets("departments-pika")
    configure_logging("departments-pika")
    departments = [d for d in os.environ.get("DEPARTMENTS", "").split(",") if d]
    if not departments:
        print("DEPARTMENTS is empty: name the departments this worker answers for", file=sys.stderr)
        return 2
    start_http_server(
        int(os.environ.get("DEPARTMENT_METRICS_PORT", 8012)),
        addr=os.environ.get("BIND_HOST", "127.0.0.1"),
    )
    rules = Rules.from_file()
    uris = consumer_uris(departments)
    default_uri = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    workers = [
        Worker(uris.get(department, default_uri), [department], rules.decide, on_outcome=count)
        for department in departments
    ]
    threads = [
        threading.Thread(target=w.run, name=f"worker-{w.departments[0]}", daemon=True)
        for w in workers
    ]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for thread in threads:
        thread.start()
    try:
        while not stop.wait(1):
            if not all(thread.is_alive() for thread in threads):
                logging.getLogger(__name__).error("a worker thread died; stopping")
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        for worker in workers:
            worker.stop()
        for thread in threads:
            thread.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
