"""The init container of a service's pod (Kubernetes): `python -m ops.deploy.wait_for_broker`.

Waits until the topology job (`broker-setup`, ops/deploy/broker_setup.py) has done what the
service needs, with the service's own credentials only (docs/adr/0031): its own user
(AMQP_URI) can log in to the mesh's virtual host (the job creates the user with its rights),
and every exchange the service uses that the job declares (deploy/rabbitmq/definitions.json)
exists. Exchanges are looked up by passive declarations, which need no right. It holds no
administrator's URI, no BROKER_USERS_SECRET and no other service's password. ONESTOP_PROCESS
names the service; WAIT_FOR_BROKER_SECONDS bounds the wait (default 600: the container then
fails and the kubelet starts it again, with its back-off).
"""

import json
import sys
import time

from kombu import Connection

from onestop.common import config
from ops.deploy.broker_permissions import needs_of
from ops.deploy.rabbitmq import DEFINITIONS


def expected_exchanges(service):
    """The exchanges the service uses (read from its class) that the topology job declares."""
    from onestop.service_classes import service_class

    declared = {e["name"] for e in json.loads(DEFINITIONS.read_text())["exchanges"]}
    return sorted(needs_of(service_class(service)).exchanges & declared)


def missing_exchanges(amqp_uri, names):
    """The names among `names` not declared on the broker; raises when the URI cannot log in
    (its user does not exist yet, or has no rights in the virtual host)."""
    missing = []
    with Connection(amqp_uri, connect_timeout=5) as connection:
        connection.connect()
        for name in names:
            channel = connection.channel()
            try:
                channel.exchange_declare(name, "topic", passive=True)
            except connection.channel_errors:  # NOT_FOUND closes the channel
                missing.append(name)
            else:
                channel.close()
    return missing


def wait(amqp_uri, names, seconds, pause=2.0):
    deadline = time.monotonic() + seconds
    while True:
        try:
            missing = missing_exchanges(amqp_uri, names)
            if not missing:
                return
            reason = f"exchanges not declared yet: {', '.join(missing)}"
        except Exception as exc:  # access refused until the job has created the user
            reason = f"cannot log in yet: {type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            raise RuntimeError(f"the broker topology is not in place after {seconds} s: {reason}")
        print(f"waiting for the broker topology ({reason})", flush=True)
        time.sleep(pause)


def main():
    service = config.env("ONESTOP_PROCESS", "")
    if service not in config.SERVICES:
        print(f"ONESTOP_PROCESS names no service: {service!r}", file=sys.stderr)
        return 1
    names = expected_exchanges(service)
    wait(config.amqp_uri(), names, float(config.env("WAIT_FOR_BROKER_SECONDS", 600)))
    print(f"{service}: its broker user logs in, {len(names)} exchanges in place", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
