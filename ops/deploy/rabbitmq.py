"""The broker's definitions file, generated from onestop.contracts.topology and the catalog.

deploy/rabbitmq/definitions.json holds the department boundary for one virtual
host: the exchanges, one durable queue per department, routing's results queue,
the dead-letter queue and the retry (delay) queues, as quorum queues; and the exchanges
the services use that no service user may declare (`nameko-rpc`, every `<source>.events`:
read from the service classes, docs/adr/0031). It holds no users: importing
definitions at boot would skip RabbitMQ's default user, and a file with users
would carry credentials. The topology job (`python -m ops.deploy.broker_setup`,
the same step `make run` does with declare_all) imports it through the
management API in docker-compose and on Kubernetes.
"""

import functools
import json
from pathlib import Path

from services.catalog.domain import load_data
from onestop.contracts import topology
from ops.deploy.broker_permissions import topology_exchanges

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"
QUORUM = {"x-queue-type": "quorum"}


def departments():
    return list(_departments())


@functools.lru_cache(maxsize=1)
def _departments():
    return tuple(sorted(d["code"] for d in load_data()["departments"]))


def _exchange(exchange):
    return {
        "name": exchange.name,
        "type": exchange.type,
        "durable": True,
        "auto_delete": False,
        "internal": False,
        "arguments": {},
    }


def _queue(queue):
    return {
        "name": queue.name,
        "durable": True,
        "auto_delete": False,
        "arguments": {**QUORUM, **(queue.queue_arguments or {})},
    }


def _binding(queue):
    return {
        "source": queue.exchange.name,
        "destination": queue.name,
        "destination_type": "queue",
        "routing_key": queue.routing_key,
        "arguments": {},
    }


def definitions(department_codes=None):
    """Vhost-scoped definitions (POST /api/definitions/<vhost>)."""
    codes = departments() if department_codes is None else department_codes
    retry_queues = [topology.retry_queue(s) for s in topology.RETRY_DELAYS_SECONDS]
    queues = [
        topology.results_queue,
        topology.dead_letter_queue,
        *[topology.department_queue(code) for code in codes],
        *retry_queues,
    ]
    return {
        "rabbit_version": "4.1",
        "exchanges": [
            _exchange(e)
            for e in (
                topology.tasks_exchange,
                topology.results_exchange,
                topology.dead_letter_exchange,
                *[q.exchange for q in retry_queues],
                *topology_exchanges(),
            )
        ],
        "queues": [_queue(q) for q in queues],
        "bindings": [_binding(q) for q in queues],
    }


def generated_files():
    return {DEFINITIONS: json.dumps(definitions(), indent=2) + "\n"}
