"""The same workflow on Celery, as a Python team would write it by default: a chord of K
department tasks (one per department) with a combining callback; RabbitMQ broker, Redis
result backend; the prefork pool with the default concurrency (one process per core).

Each department task gets the same task payload the mesh sends (envelope, applicant,
form, materials) and decides it with the same reference rules; the callback computes
the combined decision and pushes (application id, decision time) onto a Redis list the
benchmark reads. Nothing is stored but Celery's own results: no audit trail, no outbox,
no per-task state that survives a lost chord counter (which is the point of comparing).

Configuration from the environment: BENCH_CELERY_BROKER, BENCH_CELERY_BACKEND,
BENCH_CELERY_PREFIX (Redis key prefix: several runs share one Redis safely),
BENCH_CELERY_QUEUE, and BENCH_CELERY_DURABLE=1 for the durability-matched variant:
tasks acknowledged after they ran (`task_acks_late`) and requeued when their worker dies
(`task_reject_on_worker_lost`), every publish awaiting its publisher confirm
(`confirm_publish`), and a Redis that writes its append-only file (bench/run.py starts a
private redis-server with `appendonly yes`, `appendfsync everysec` for it). Celery's
default already publishes persistent messages to durable queues.
"""

import json
import os
import time

import redis
from celery import Celery

from departments.reference.rules import Rules

BROKER = os.environ.get("BENCH_CELERY_BROKER", "amqp://guest:guest@127.0.0.1:5672/onestop_bench")
BACKEND = os.environ.get("BENCH_CELERY_BACKEND", "redis://127.0.0.1:6379/0")
PREFIX = os.environ.get("BENCH_CELERY_PREFIX", "onestop_bench:")
QUEUE = os.environ.get("BENCH_CELERY_QUEUE", "onestop_bench.celery")
DURABLE = os.environ.get("BENCH_CELERY_DURABLE") == "1"

_rules = None
_redis = {}


def rules():
    global _rules
    if _rules is None:
        _rules = Rules.from_file()
    return _rules


def decisions_store(backend):
    if backend not in _redis:
        _redis[backend] = redis.Redis.from_url(backend)
    return _redis[backend]


def decided_key(prefix):
    return f"{prefix}decided"


def create(broker, backend, prefix, queue, durable):
    """A Celery app with the two tasks; the worker's (below, from the environment) and the
    benchmark's client (bench/celery_system.py, one per variant) are made the same way."""
    app = Celery("onestop_bench", broker=broker, backend=backend, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=queue,
        result_expires=900,
        result_backend_transport_options={"global_keyprefix": prefix},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        broker_connection_retry_on_startup=True,
    )
    if durable:
        app.conf.update(
            task_acks_late=True,
            task_reject_on_worker_lost=True,
            broker_transport_options={"confirm_publish": True},
        )

    @app.task(name="bench.decide", shared=False)
    def decide(task):
        """One department's decision on its task (the reference rules, as in the mesh)."""
        answer = rules().decide(task["payload"])
        return {
            "task_id": task["payload"]["task_id"],
            "department": task["payload"]["department"],
            "decision": answer["decision"],
            "reason": answer.get("reason", ""),
            "data": answer.get("data", {}),
        }

    @app.task(name="bench.combine", shared=False)
    def combine(results, application_id):
        """The chord callback: approved when every task is, else rejected."""
        outcome = "approved" if all(r["decision"] == "approved" for r in results) else "rejected"
        decided_at = time.time()
        decisions_store(backend).lpush(
            decided_key(prefix),
            json.dumps(
                {"application_id": application_id, "outcome": outcome, "decided_at": decided_at}
            ),
        )
        return {
            "outcome": outcome,
            "decided_at": decided_at,
            "departments": [
                {"department": r["department"], "outcome": r["decision"]} for r in results
            ],
        }

    return app


# the worker's app (`celery -A bench.celery_app worker`)
app = create(BROKER, BACKEND, PREFIX, QUEUE, DURABLE)
