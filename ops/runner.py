"""`make run`: the whole mesh on one machine, no containers.

Starts the embedded MongoDB-wire store (unless MONGO_URI is set), checks that
RabbitMQ answers at AMQP_URI, declares the department boundary, starts every
service, the reference department consumers and the gateway as separate
processes, waits until each is healthy and prints where everything is.
Ctrl-C stops everything. If any process dies, the others are stopped too
(honcho's rule): the mesh never runs half-started without saying so.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from honcho.manager import Manager
from kombu import Connection

from services.catalog.domain import load_data
from onestop.client import PERSON_ID
from onestop.common import broker_users, config, tokens
from onestop.contracts.topology import declare_all, retire_queues
from ops.deploy.prometheus import local_targets

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def data_dir():
    return Path(config.env("DATA_DIR", str(ROOT / ".data")))


def wait_for_port(host, port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def start_embedded_store():
    """nx-27017 (MongoDB wire protocol over SQLite) on EMBEDDED_MONGO_PORT; docs/adr/0002."""
    port = int(config.env("EMBEDDED_MONGO_PORT", config.DEFAULT_MONGO_PORT))
    store_dir = data_dir() / "mongo"
    store_dir.mkdir(parents=True, exist_ok=True)
    if wait_for_port("127.0.0.1", port, 0.2):
        sys.exit(
            f"port {port} is taken: another store or mesh is running; stop it or set "
            f"EMBEDDED_MONGO_PORT"
        )
    log = open(data_dir() / "embedded-mongo.log", "ab")
    process = subprocess.Popen(
        [
            str(Path(PYTHON).with_name("nx-27017")),
            "--data-dir",
            str(store_dir),
            "--host",
            "127.0.0.1",
            "-p",
            str(port),
            "--log-file",
            str(data_dir() / "nx-27017.log"),
            "--pid-file",
            str(data_dir() / "nx-27017.pid"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    if not wait_for_port("127.0.0.1", port, 30):
        process.terminate()
        sys.exit(
            f"the embedded store did not start on port {port}; see "
            f"{data_dir() / 'embedded-mongo.log'}"
        )
    os.environ["MONGO_URI"] = f"mongodb://127.0.0.1:{port}/"
    return process


def check_broker(departments):
    # the services' exchanges too, as the deployments' topology job does (docs/adr/0031)
    from ops.deploy.broker_permissions import topology_exchanges

    uri = config.amqp_uri()
    try:
        with Connection(uri, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=2, interval_start=1)
            declare_all(connection, departments, topology_exchanges())
            retire_queues(connection.channel())
    except Exception as exc:
        sys.exit(
            f"cannot reach RabbitMQ at AMQP_URI={uri!s} ({exc}).\n"
            f"Start RabbitMQ or set AMQP_URI=amqp://user:password@host:5672/vhost"
        )


def split_departments(departments):
    """Half the departments to the nameko reference consumer, half to the pika one; none of
    EXTERNAL_DEPARTMENTS (comma-separated: those answered by their own integration)."""
    external = set(filter(None, config.env("EXTERNAL_DEPARTMENTS", "").split(",")))
    ordered = sorted(d for d in departments if d not in external)
    return ordered[0::2], ordered[1::2]


def processes(departments):
    """name -> (command, extra environment): the one list the runner starts."""
    nameko_depts, pika_depts = split_departments(departments)
    # each department consumer connects as its department's broker user (docs/adr/0005)
    uris = broker_users.department_uris(departments)
    # the services hold no department's credentials (routing's officer API applies an
    # officer's decision itself: docs/adr/0029-officer-decisions-applied-directly.md)
    table = {name: ([PYTHON, "-m", "onestop.run_service", name], {}) for name in config.SERVICES}
    table["departments-nameko"] = (
        [PYTHON, "-m", "onestop.run_service", "departments-nameko"],
        {
            "DEPARTMENTS": ",".join(nameko_depts),
            "DEPARTMENT_AMQP_URIS": json.dumps({d: uris[d] for d in nameko_depts if d in uris}),
        },
    )
    table["departments-pika"] = (
        [PYTHON, "-m", "departments.reference.pika_department"],
        {
            "DEPARTMENTS": ",".join(pika_depts),
            "DEPARTMENT_AMQP_URIS": json.dumps({d: uris[d] for d in pika_depts if d in uris}),
            "DEPARTMENT_METRICS_PORT": str(config.port_of("departments-pika")),
        },
    )
    table["gateway"] = ([PYTHON, "-m", "services.gateway.app"], {})
    # the screens sign people in, so they alone get the issuer's key (else the development
    # key under DATA_DIR, as ops.cli uses); locally the demo people's sign-in is on
    web_env = {"WEB_DEV_SIGNIN": config.env("WEB_DEV_SIGNIN", "true")}
    if config.env("AUTH_SIGNING_KEY"):
        web_env["AUTH_SIGNING_KEY"] = config.env("AUTH_SIGNING_KEY")
    table["web"] = ([PYTHON, "-m", "services.web.app"], web_env)
    table["broker-exporter"] = ([PYTHON, "-m", "ops.broker_exporter"], {})
    for name, count in replicas().items():  # competing consumers of the same queues
        command, extra = table[name]
        for number in range(2, count + 1):
            port = config.port_of(name) + REPLICA_PORT_STEP * (number - 1)
            table[f"{name}-{number}"] = (command, dict(extra, **{port_variable(name): str(port)}))
    return table


# REPLICAS=routing=2,intake=2 starts that many processes of a service (the benchmark's
# scale-out check; Kubernetes scales with replicas instead). Replica n listens on the
# service's port + 100 * (n - 1); the gateway calls the first one, the others consume.
REPLICA_PORT_STEP = 100


def port_variable(name):
    return f"{name.upper().replace('-', '_')}_PORT"


def replicas(spec=None):
    """{service: processes} from REPLICAS ("routing=2,intake=2"); ValueError if malformed."""
    spec = config.env("REPLICAS", "") if spec is None else spec
    found = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, count = part.partition("=")
        if name not in config.SERVICES:
            raise ValueError(
                f"REPLICAS: {name!r} is not a service (one of {', '.join(config.SERVICES)})"
            )
        if not count.isdigit() or not 1 <= int(count) <= 8:
            raise ValueError(f"REPLICAS: {part!r}: the count must be a whole number 1 to 8")
        found[name] = int(count)
    return found


def development_tokens(key=None):
    """One token per role for trying the API locally (`make run` prints them), each living
    as long as its role may (tokens.MAX_LIFETIME_SECONDS)."""
    key = key or tokens.signing_key()
    samples = {
        "applicant": dict(sub=PERSON_ID, name="Li Hua"),
        "clerk": dict(sub="clerk-0001", region="430102", name="Counter clerk"),
        # the health office of Furong district (430102), where the samples apply
        "officer": dict(sub="officer-0001", office="health.430102", name="Health officer"),
        "supervisor": dict(sub="supervisor-0001", region="430000", name="Supervisor"),
        "operator": dict(sub="operator-0001", name="Operator"),
    }
    return {role: tokens.mint(role, key=key, **claims) for role, claims in samples.items()}


# what the runner's own environment may hold that no process gets unless its entry in
# `processes` gives it: the token issuer's key, the departments' broker credentials
WITHHELD = ("AUTH_SIGNING_KEY", "BROKER_USERS_SECRET", "DEPARTMENT_AMQP_URIS")


def verifier_env(environ):
    """The environment of the processes the runner starts: they verify tokens with public
    keys only (AUTH_PUBLIC_KEYS as the operator gives it, else the public half of the
    development key); the private key stays with the issuer (this runner, ops.cli), and the
    departments' broker credentials with the department consumers (`processes`)."""
    env = {k: v for k, v in environ.items() if k not in WITHHELD}
    if not (environ.get("AUTH_PUBLIC_KEYS") or environ.get("AUTH_PUBLIC_KEYS_FILE")):
        env["AUTH_PUBLIC_KEYS"] = json.dumps(tokens.jwks(tokens.signing_key()))
    return env


def health_urls():
    urls = {name: f"{config.service_url(name)}/health" for name in config.SERVICES}
    urls["departments-nameko"] = f"http://127.0.0.1:{config.port_of('departments-nameko')}/health"
    urls["gateway"] = f"http://127.0.0.1:{config.gateway_port()}/health"
    urls["web"] = f"http://127.0.0.1:{config.port_of('web')}/health"
    return urls


def wait_until_healthy(urls, timeout, interval=0.3):
    """Poll name -> /health URL until each answers 200; the names still failing at timeout."""
    deadline = time.monotonic() + timeout
    pending = dict(urls)
    while pending and time.monotonic() < deadline:
        for name, url in list(pending.items()):
            try:
                if requests.get(url, timeout=1).ok:
                    pending.pop(name)
            except requests.RequestException:
                pass
        time.sleep(interval)
    return sorted(pending)


def announce_when_ready(manager, timeout=90):
    pending = wait_until_healthy(health_urls(), timeout)
    if pending:
        print(f"\n!! not healthy after {timeout}s: {', '.join(pending)}\n", flush=True)
        return
    base = f"http://127.0.0.1:{config.gateway_port()}"
    lines = [
        "",
        "=" * 72,
        "One-step Approval mesh is running.",
        f"  Screens:         {base}/   (sign in as a demo person: applicant, clerk, officer,"
        " supervisor)",
        f"  Public API:      {base}/api   (OpenAPI: {base}/api/openapi.json)",
        "  Metrics:",
    ]
    for name, target in local_targets().items():  # what Prometheus scrapes (make prometheus)
        lines.append(f"    {name:<20} http://{target}/metrics")
    lines += [
        f"  Store:           {os.environ['MONGO_URI']}",
        f"  Broker:          {config.amqp_uri()}",
        "  Notifications:   "
        + str(os.environ.get("NOTIFY_FILE") or data_dir() / "notifications.jsonl")
        + " (notify's file channel; each person's inbox: GET /api/notifications)",
        "  Development tokens (Authorization: Bearer <token>; more: "
        "python -m ops.cli token --help):",
    ]
    lines += [f"    {role:<11} {token}" for role, token in development_tokens().items()]
    lines += ["Try:  curl " + base + "/api/scenarios", "Ctrl-C stops everything.", "=" * 72, ""]
    print("\n".join(lines), flush=True)
    (data_dir() / "READY").write_text(base)


def prepare(departments):
    """Everything the processes need before they start (broker reachable, topology, the
    departments' broker users unless the operator gives DEPARTMENT_AMQP_URIS)."""
    check_broker(departments)
    if broker_users.external_uris() is None:
        try:
            broker_users.provision(departments)
        except RuntimeError as exc:
            sys.exit(f"cannot create the departments' broker users: {exc}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    departments = [d["code"] for d in load_data()["departments"]]
    try:
        replicas()
    except ValueError as exc:
        sys.exit(str(exc))
    if argv == ["--list-processes"]:  # for tools that start the processes one by one
        print(
            json.dumps(
                {
                    name: {"command": command, "env": extra}
                    for name, (command, extra) in processes(departments).items()
                }
            )
        )
        return 0
    if argv == ["--prepare-only"]:
        prepare(departments)
        return 0
    data_dir().mkdir(parents=True, exist_ok=True)
    (data_dir() / "READY").unlink(missing_ok=True)
    store = None if config.env("MONGO_URI") else start_embedded_store()
    try:
        prepare(departments)
        manager = Manager()
        env = dict(verifier_env(os.environ), PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
        env.setdefault("DATA_DIR", str(data_dir()))  # e.g. notify's file channel writes there
        env.setdefault("NOTIFY_CHANNELS", "file")  # locally: notifications appear in a file
        # links printed for people (receipts' QR codes) lead to this mesh's own gateway
        env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{config.gateway_port()}")
        for name, (command, extra) in processes(departments).items():
            manager.add_process(name, " ".join(command), env=dict(env, **extra), cwd=str(ROOT))
        threading.Thread(target=announce_when_ready, args=(manager,), daemon=True).start()
        manager.loop()
        return manager.returncode or 0
    finally:
        (data_dir() / "READY").unlink(missing_ok=True)
        if store is not None:
            store.terminate()
            try:
                store.wait(10)
            except subprocess.TimeoutExpired:
                store.kill()


if __name__ == "__main__":
    sys.exit(main())
