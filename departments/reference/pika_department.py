"""Reference departments as a plain pika worker: `python -m departments.reference.pika_department`.

DEPARTMENTS (comma-separated) names the departments; AMQP_URI the broker;
DEPARTMENT_METRICS_PORT where /metrics is served.
"""
import logging
import os
import signal
import sys

from prometheus_client import Counter, start_http_server

from departments.reference.rules import Rules
from departments.sdk.pika_worker import Worker

ANSWERS = Counter("departments_answers_total", "Answers given by reference departments",
                  ["department", "decision"])


def main():
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format='{"time": "%(asctime)s", "level": "%(levelname)s", '
                               '"service": "departments-pika", "message": "%(message)s"}')
    logging.getLogger("pika").setLevel(logging.WARNING)
    departments = [d for d in os.environ.get("DEPARTMENTS", "").split(",") if d]
    if not departments:
        print("DEPARTMENTS is empty: name the departments this worker answers for",
              file=sys.stderr)
        return 2
    start_http_server(int(os.environ.get("DEPARTMENT_METRICS_PORT", 8012)),
                      addr=os.environ.get("BIND_HOST", "127.0.0.1"))
    rules = Rules.from_file()
    worker = Worker(os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
                    departments, rules.decide,
                    on_outcome=lambda kind, dept: ANSWERS.labels(dept, kind).inc())
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    try:
        worker.run()
    except KeyboardInterrupt:
        worker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
