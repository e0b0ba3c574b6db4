"""Acting as a department in tests: its broker user, and results published as it.

Users are global to the broker; each test virtual host gets its own user prefix
(`<vhost>.department.`, as tests/support/mesh.py sets it for a mesh), so meshes
that share the machine's broker never change each other's passwords.
"""

import json
import os
from pathlib import Path

from kombu import Connection

from onestop.common import broker_users
from onestop.contracts.topology import results_exchange
from tests.support.polling import wait_for  # noqa: F401 (the tests import it from here)

_provisioned = set()


def user_prefix_for(amqp_uri):
    return f"{broker_users.vhost_of(amqp_uri)}.department."


def department_amqp_uri(amqp_uri, department):
    """amqp_uri as the department's user, creating the user in the vhost once (tests that
    run services inside the test process: the prefix is set for the whole process)."""
    os.environ["BROKER_USER_PREFIX"] = user_prefix_for(amqp_uri)
    key = (broker_users.vhost_of(amqp_uri), department)
    if key not in _provisioned:
        broker_users.provision([department], amqp_uri)
        _provisioned.add(key)
    return broker_users.amqp_uri_for(department, amqp_uri)


class MeshDepartments:
    """The department users of a running mesh (its prefix, its secret under DATA_DIR)."""

    def __init__(self, amqp_uri, data_dir, prefix):
        self.amqp_uri = amqp_uri
        self.prefix = prefix
        self.key = (Path(data_dir) / broker_users.SECRET_FILE_NAME).read_text().strip()

    @classmethod
    def of(cls, mesh):
        return cls(mesh.amqp_uri, mesh.data_dir, mesh.env["BROKER_USER_PREFIX"])

    def user(self, department):
        return broker_users.department_user(department, self.prefix)

    def uri(self, department):
        return broker_users.amqp_uri_for(department, self.amqp_uri, self.key, self.prefix)

    def publish_result(self, body, department, user_id=True, routing_department=None):
        """Publish as the department's user; routing key result.<routing_department or
        department>; user_id True sets the user, None leaves it out, a string forges it."""
        publish(
            self.uri(department),
            body,
            routing_department or department,
            self.user(department) if user_id is True else user_id,
        )


def publish(uri, body, department, user_id=None):
    """Publish a result body on uri with publisher confirms (routing key result.<department>)."""
    properties = {"user_id": user_id} if user_id else {}
    payload = body if isinstance(body, (str, bytes)) else json.dumps(body)
    with Connection(uri, transport_options={"confirm_publish": True}) as connection:
        connection.Producer().publish(
            payload,
            exchange=results_exchange,
            content_type="application/json",
            delivery_mode=2,
            routing_key=f"result.{department}",
            **properties,
        )


def publish_result(amqp_uri, body, department):
    """Publish as the department's own user with its validated user_id (integration tests)."""
    publish(
        department_amqp_uri(amqp_uri, department),
        body,
        department,
        broker_users.department_user(department),
    )
