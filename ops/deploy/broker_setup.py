"""The topology job: `python -m ops.deploy.broker_setup` (docker-compose, Kubernetes).

Waits for the management API, then imports deploy/rabbitmq/definitions.json
into the mesh's virtual host and, when BROKER_USERS_SECRET is set, creates the
departments' broker users (docs/adr/0005) and each service's own user with the rights
its class needs (ops/deploy/broker_permissions.py, docs/adr/0021-least-privilege.md);
all idempotent. `make run` does the same with declare_all and broker_users.provision
against the machine's broker. RABBITMQ_MANAGEMENT_URL names the API;
the credentials and virtual host come from AMQP_URI (an administrator there).
"""

import json
import sys
import time
from urllib.parse import quote, unquote, urlparse

import requests

from ops.broker_exporter import vhost_of
from onestop.contracts.topology import RETIRED_QUEUES
from onestop.common import broker_users, config
from ops.deploy.broker_permissions import service_grants
from ops.deploy.rabbitmq import DEFINITIONS, departments


def apply(management_url, amqp_uri, definitions, timeout=120):
    parsed = urlparse(amqp_uri)
    auth = (unquote(parsed.username or "guest"), unquote(parsed.password or "guest"))
    vhost = quote(vhost_of(amqp_uri), safe="")
    base = management_url.rstrip("/")
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(f"{base}/api/overview", auth=auth, timeout=5).raise_for_status()
            break
        except requests.RequestException as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the management API at {base} did not answer: {exc}") from None
            time.sleep(2)
    requests.put(
        f"{base}/api/vhosts/{vhost}", json={"default_queue_type": "quorum"}, auth=auth, timeout=10
    ).raise_for_status()
    requests.post(
        f"{base}/api/definitions/{vhost}", json=definitions, auth=auth, timeout=30
    ).raise_for_status()
    for name in RETIRED_QUEUES:  # entrypoints gone: their queues would fill for nobody
        deleted = requests.delete(
            f"{base}/api/queues/{vhost}/{quote(name, safe='')}", auth=auth, timeout=10
        )
        if deleted.status_code != 404:
            deleted.raise_for_status()


def main():
    config.refuse_weak_secrets("broker-setup")
    management_url = config.env("RABBITMQ_MANAGEMENT_URL", "http://127.0.0.1:15672")
    definitions = json.loads(DEFINITIONS.read_text())
    apply(management_url, config.amqp_uri(), definitions)
    print(
        f"broker topology applied: {len(definitions['queues'])} queues, "
        f"{len(definitions['exchanges'])} exchanges",
        flush=True,
    )
    if config.env("BROKER_USERS_SECRET"):
        users = broker_users.provision(
            departments(), config.amqp_uri(), management_url=management_url
        )
        print(f"department broker users in place: {len(users)}", flush=True)
        # each service's own user, its rights read from its class (docs/adr/00XX-h13-...)
        users = broker_users.provision_services(
            service_grants(), config.amqp_uri(), management_url=management_url
        )
        print(f"service broker users in place: {', '.join(users)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
