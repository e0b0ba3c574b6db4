"""One RabbitMQ user per department, with only the rights the department boundary needs.

docs/adr/0005-department-broker-users.md says why per department (not per
office). A department's user may consume from its own queue and publish results
with its own routing key; every result carries the AMQP `user_id` property, which
RabbitMQ checks against the connection's user, so routing knows who sent it.

Passwords are derived from one secret (BROKER_USERS_SECRET, or a generated file
under DATA_DIR that is never committed): the platform can hand a department its
password (`python -m ops.cli broker-users --password health`) without a password store.
Only the department consumers, the user provisioning (broker-setup) and the operators'
tools hold the secret; no service does (routing applies an officer's decision itself:
docs/adr/0029-officer-decisions-applied-directly.md).

Each nameko service of the mesh has a broker user of its own too (`service_user`,
prefix BROKER_SERVICE_USER_PREFIX, default `service.`), its password derived from the same
secret; its rights are read from the service's class by ops/deploy/broker_permissions.py
(docs/adr/0021-least-privilege.md). A service is given only its own password
(compose: its AMQP_URI from .env; Kubernetes: its key of the `onestop-broker-service-users`
secret), never the secret.

Users are global to a RabbitMQ node, permissions are per virtual host: meshes
that share a broker (tests, developers) keep apart by BROKER_USER_PREFIX and
BROKER_SERVICE_USER_PREFIX.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from onestop.common import config
from onestop.contracts.topology import RESULTS_EXCHANGE, department_queue_name, result_routing_key

DEFAULT_PREFIX = "department."
DEFAULT_SERVICE_PREFIX = "service."
SECRET_FILE_NAME = "broker-users.secret"
HASHING_ALGORITHM = "rabbit_password_hashing_sha256"


def user_prefix():
    return config.env("BROKER_USER_PREFIX", DEFAULT_PREFIX)


def department_user(department, prefix=None):
    return f"{user_prefix() if prefix is None else prefix}{department}"


def service_prefix():
    return config.env("BROKER_SERVICE_USER_PREFIX", DEFAULT_SERVICE_PREFIX)


def service_user(service, prefix=None):
    """The broker user a service of the mesh connects as."""
    return f"{service_prefix() if prefix is None else prefix}{service}"


def department_of_user(user, prefix=None):
    """The department whose broker user `user` is, or None (another or no user)."""
    prefix = user_prefix() if prefix is None else prefix
    if not user or not user.startswith(prefix) or len(user) == len(prefix):
        return None
    return user[len(prefix) :]


def permissions(department):
    """configure / read / write regular expressions of a department's user in the vhost."""
    return {
        "configure": "^$",
        "read": f"^{re.escape(department_queue_name(department))}$",
        "write": f"^{re.escape(RESULTS_EXCHANGE)}$",
    }


def topic_permissions(department):
    """On the results exchange, only the department's own routing key."""
    return {
        "exchange": RESULTS_EXCHANGE,
        "write": f"^{re.escape(result_routing_key(department))}$",
        "read": "^$",
    }


# -- secrets and passwords ---------------------------------------------------------------
def secret():
    """BROKER_USERS_SECRET, or a random one generated once under DATA_DIR (mode 0600)."""
    return config.local_secret(
        "BROKER_USERS_SECRET", SECRET_FILE_NAME, lambda: secrets.token_urlsafe(32)
    )


def password(user, key):
    """The password of a broker user, derived from the secret (HMAC-SHA256)."""
    digest = hmac.new(key.encode(), user.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def rabbit_password_hash(plain, salt=None):
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = salt if salt is not None else secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + plain.encode()).digest()).decode()


def amqp_uri_for(department, base_uri=None, key=None, prefix=None):
    """base_uri (host, port, vhost) with the department user's credentials."""
    return amqp_uri_as(department_user(department, prefix), base_uri, key)


def service_password_variable(service):
    """The variable that gives a service user's password explicitly (compose's .env)."""
    return f"BROKER_PASSWORD_{service.upper().replace('-', '_')}"


def service_password(service, key=None, prefix=None):
    """BROKER_PASSWORD_<SERVICE> when the operator gives it, else derived from the secret."""
    given = config.env(service_password_variable(service))
    return given or password(service_user(service, prefix), key or secret())


def service_amqp_uri(service, base_uri=None, key=None, prefix=None):
    """base_uri (host, port, vhost) with the service user's credentials."""
    user = service_user(service, prefix)
    return amqp_uri_as(user, base_uri, key, service_password(service, key, prefix))


def amqp_uri_as(user, base_uri=None, key=None, plain=None):
    """base_uri (host, port, vhost) with `user` and its password (derived unless given)."""
    parts = urlsplit(base_uri or config.amqp_uri())
    host = parts.hostname or "127.0.0.1"
    plain = plain if plain is not None else password(user, key or secret())
    netloc = f"{quote(user, safe='')}:{quote(plain, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def external_uris():
    """DEPARTMENT_AMQP_URIS (JSON object department -> URI) when the operator gives them."""
    value = config.env("DEPARTMENT_AMQP_URIS")
    return json.loads(value) if value else None


def department_uris(departments, base_uri=None):
    """department -> AMQP URI as its user: the operator's DEPARTMENT_AMQP_URIS, else derived
    from the secret (the users `provision` creates)."""
    given = external_uris()
    if given is not None:
        return {d: given[d] for d in departments if d in given}
    key = secret()
    return {d: amqp_uri_for(d, base_uri, key) for d in departments}


def known_department_uri(department, base_uri=None):
    """A department's URI as `department_uris` gives it, but None where the credentials are
    not at hand (no DEPARTMENT_AMQP_URIS, no secret yet): never makes a new secret."""
    given = external_uris()
    if given is not None:
        return given.get(department)
    key = config.existing_secret("BROKER_USERS_SECRET", SECRET_FILE_NAME)
    return amqp_uri_for(department, base_uri, key) if key else None


def user_of_uri(uri):
    return unquote(urlsplit(uri).username or "")


def consumer_uris(departments):
    """The URIs a department consumer process connects with: DEPARTMENT_AMQP_URIS (the
    runner, or the operator), else derived when BROKER_USERS_SECRET is set (containers),
    else none (each department then connects with AMQP_URI)."""
    given = external_uris()
    if given is not None:
        return given
    if config.env("BROKER_USERS_SECRET"):
        return {d: amqp_uri_for(d) for d in departments}
    return {}


def department_nameko_config(name):
    """nameko config for a reference department consumer process (metrics on its own port);
    each department connects as its own broker user (`consumer_uris`)."""
    departments = [d for d in config.env("DEPARTMENTS", "").split(",") if d]
    return {
        "AMQP_URI": config.amqp_uri(),
        "DEPARTMENT_AMQP_URIS": consumer_uris(departments),
        "WEB_SERVER_ADDRESS": f"{config.env('BIND_HOST', '127.0.0.1')}:{config.port_of(name)}",
        **config.concurrency(),
        "serializer": "json",
    }


def without_credentials(uri):
    """The URI's host, port and virtual host, with no user or password."""
    parts = urlsplit(uri)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def department_container_configs(departments, process_config):
    """(the process's probes config, {department: its container's config}): each
    department's nameko container gets its own user's URI as AMQP_URI and no other
    department's; the probes (HTTP only) get no broker credentials at all. A department
    without a URI of its own (no secret, no DEPARTMENT_AMQP_URIS) gets AMQP_URI."""
    uris = process_config.get("DEPARTMENT_AMQP_URIS") or {}
    base = {k: v for k, v in process_config.items() if k != "DEPARTMENT_AMQP_URIS"}
    probes = dict(base, AMQP_URI=without_credentials(base["AMQP_URI"]))
    own = {
        department: dict(
            base,
            AMQP_URI=uris.get(department, base["AMQP_URI"]),
            DEPARTMENT_AMQP_URIS={department: uris[department]} if department in uris else {},
        )
        for department in departments
    }
    return probes, own


def vhost_of(uri):
    """The virtual host an AMQP URI names ('/' when it names none)."""
    path = urlsplit(uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


# -- definitions ---------------------------------------------------------------------------
def definitions(departments, vhost, key=None, prefix=None):
    """RabbitMQ definitions (users, permissions, topic permissions) for the departments.

    With `key`, users carry password hashes; without, `password_hash` is empty (nobody can
    log in until the operator sets passwords: the committed deployment file).
    """
    users, grants, topics = [], [], []
    departments = list(departments)
    for department in sorted(departments):
        user = department_user(department, prefix)
        users.append(
            {
                "name": user,
                "hashing_algorithm": HASHING_ALGORITHM,
                "tags": [],
                "password_hash": rabbit_password_hash(password(user, key)) if key else "",
            }
        )
        grants.append({"user": user, "vhost": vhost, **permissions(department)})
        topics.append({"user": user, "vhost": vhost, **topic_permissions(department)})
    return {
        "users": users,
        "vhosts": [{"name": vhost}],
        "permissions": grants,
        "topic_permissions": topics,
    }


def service_definitions(grants, vhost, key=None, prefix=None):
    """RabbitMQ definitions of the services' users: grants is service -> (permissions,
    topic permissions), as ops/deploy/broker_permissions.py reads them from the classes."""
    users, permissions_, topics = [], [], []
    for service in sorted(grants):
        user = service_user(service, prefix)
        grant, topic_grants = grants[service]
        users.append(
            {
                "name": user,
                "hashing_algorithm": HASHING_ALGORITHM,
                "tags": [],
                "password_hash": (
                    rabbit_password_hash(service_password(service, key, prefix)) if key else ""
                ),
            }
        )
        permissions_.append({"user": user, "vhost": vhost, **grant})
        topics += [{"user": user, "vhost": vhost, **each} for each in topic_grants]
    return {
        "users": users,
        "vhosts": [{"name": vhost}],
        "permissions": permissions_,
        "topic_permissions": topics,
    }


def provision_services(grants, amqp_uri=None, key=None, management_url=None, wait_seconds=15):
    """Create (or update) the services' users in the vhost of amqp_uri (idempotent). A
    service user whose rights shrank loses the topic permissions it no longer has only on
    a fresh broker: definitions add and replace, they never delete."""
    amqp_uri = amqp_uri or config.amqp_uri()
    key = key or secret()
    body = service_definitions(grants, vhost_of(amqp_uri), key)
    import_definitions(body, amqp_uri, management_url)
    wait_until_login(service_amqp_uri(sorted(grants)[-1], amqp_uri, key), wait_seconds)
    return [user["name"] for user in body["users"]]


def rabbitmqctl():
    found = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    if not Path(found).exists():
        raise RuntimeError(
            "rabbitmqctl is not installed here: give RABBITMQ_MANAGEMENT_URL, or "
            "import deploy/rabbitmq/department-users.json with passwords set"
        )
    return found


def import_definitions(body, amqp_uri, management_url=None):
    """Import definitions with rabbitmqctl (local broker) or the management API (deployment).

    For the management API the credentials of amqp_uri must be an administrator's.
    """
    if management_url:
        import requests

        parts = urlsplit(amqp_uri)
        auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
        response = requests.post(
            f"{management_url.rstrip('/')}/api/definitions", json=body, auth=auth, timeout=30
        )
        if not response.ok:
            raise RuntimeError(
                f"the management API refused the definitions: "
                f"{response.status_code} {response.text[:200]}"
            )
        return
    # on standard input: the broker process could not read a private temporary file
    run = subprocess.run(
        [rabbitmqctl(), "import_definitions", "--format", "json"],
        input=json.dumps(body),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if run.returncode != 0:
        raise RuntimeError(f"rabbitmqctl import_definitions failed: {run.stderr.strip()}")


def provision(departments, amqp_uri=None, key=None, management_url=None, wait_seconds=15):
    """Create (or update) the department users in the vhost of amqp_uri.

    Idempotent: running it again sets the same passwords. The import is asynchronous, so
    it returns when the last user can log in.
    """
    amqp_uri = amqp_uri or config.amqp_uri()
    key = key or secret()
    body = definitions(departments, vhost_of(amqp_uri), key)
    import_definitions(body, amqp_uri, management_url)
    wait_until_login(amqp_uri_for(sorted(departments)[-1], amqp_uri, key), wait_seconds)
    return [user["name"] for user in body["users"]]


def wait_until_login(uri, seconds):
    from kombu import Connection

    deadline = time.monotonic() + seconds
    while True:
        try:
            with Connection(uri, connect_timeout=2) as connection:
                connection.connect()
                return
        except Exception as exc:  # access refused until the import has finished
            if time.monotonic() > deadline:
                raise RuntimeError(f"broker users cannot log in after the import: {exc}")
            time.sleep(0.2)
