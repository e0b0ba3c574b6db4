"""Configuration from environment variables (twelve-factor), with defaults that work on one machine.

The one list of services lives here too: the runner, the tests and the
deployment files all read it, so they cannot drift.
"""

import os

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_MONGO_PORT = 27018

# service name -> HTTP port of its own (health, metrics, its part of the public API)
SERVICES = {
    "catalog": 8001,
    "intake": 8002,
    "routing": 8003,
    "license": 8004,
    "feedback": 8005,
    "notify": 8006,
}
GATEWAY_PORT = 8000
# the gateway's metrics, on a port of their own: the gateway's own port is public
GATEWAY_METRICS_PORT = 8010
# reference department consumers: name -> metrics port
DEPARTMENT_CONSUMERS = {
    "departments-nameko": 8011,
    "departments-pika": 8012,
}
# the screens (services/web): static pages and sign-in, behind the gateway's "/"
FRONTENDS = {
    "web": 8007,
}
# local-only helpers: name -> metrics port (compose and Kubernetes use RabbitMQ's own plugin)
EXPORTERS = {
    "broker-exporter": 8013,
}


def env(name, default=None):
    return os.environ.get(name, default)


def amqp_uri():
    return env("AMQP_URI", DEFAULT_AMQP_URI)


def mongo_uri():
    return (
        env("MONGO_URI") or f"mongodb://127.0.0.1:{env('EMBEDDED_MONGO_PORT', DEFAULT_MONGO_PORT)}/"
    )


def db_name(service):
    """Each service owns its own database; MONGO_DB_PREFIX isolates test runs."""
    return env("MONGO_DB_PREFIX", "onestop_") + service


def port_of(name):
    """The HTTP port of a service or department consumer; <NAME>_PORT overrides the default."""
    default = (
        SERVICES.get(name)
        or FRONTENDS.get(name)
        or DEPARTMENT_CONSUMERS.get(name)
        or EXPORTERS.get(name)
        or GATEWAY_PORT
    )
    return int(env(f"{name.upper().replace('-', '_')}_PORT", default))


def service_port(service):
    return port_of(service)


def service_url(service):
    host = env(f"{service.upper()}_HOST", "127.0.0.1")
    return f"http://{host}:{service_port(service)}"


def gateway_port():
    return port_of("gateway")


def gateway_metrics_port():
    return int(env("GATEWAY_METRICS_PORT", GATEWAY_METRICS_PORT))


def concurrency():
    """nameko's worker pool per service process. nameko reads the lower-case key (an
    upper-case MAX_WORKERS in the config is silently ignored) and sets each consumer's
    prefetch to the same number."""
    return {"max_workers": int(env("MAX_WORKERS", 10))}


def nameko_config(service):
    """The nameko config dict for one service process."""
    return {
        "AMQP_URI": amqp_uri(),
        "WEB_SERVER_ADDRESS": f"{env('BIND_HOST', '127.0.0.1')}:{service_port(service)}",
        "MONGO_URI": mongo_uri(),
        **concurrency(),
        "serializer": "json",
    }


def _secret_path(file_name):
    from pathlib import Path

    return Path(env("DATA_DIR", str(Path(__file__).resolve().parents[2] / ".data"))) / file_name


def existing_secret(env_name, file_name):
    """The secret `local_secret` would give, or None where there is none yet (never made)."""
    path = _secret_path(file_name)
    return env(env_name) or (path.read_text().strip() if path.exists() else None)


def local_secret(env_name, file_name, make):
    """A secret from the environment variable `env_name`, or, for local runs, one made once
    by `make()` into DATA_DIR/`file_name` (mode 0600; `.data/` is never committed). Several
    processes of the mesh may start at once: the first to create the file wins."""
    import os
    import time

    value = env(env_name)
    if value:
        return value
    path = _secret_path(file_name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of the mesh made it first
            time.sleep(0.2)
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(make())
    return path.read_text().strip()


# --- secrets a process refuses to start with (docker-compose, Kubernetes, any host) ---

PLACEHOLDER_MARK = "change-me"
MIN_SECRET_CHARS = 16
WEAK_SECRETS = {
    "guest",
    "password",
    "secret",
    "admin",
    "changeme",
    "onestop",
    "test",
    "123456",
    "12345678",
    "qwerty",
    "letmein",
    "default",
}
MAKE_SECRET_HINT = (
    "make a good one with `python -m ops.cli secret` "
    "(or `openssl rand -hex 32`) and set it in .env or the secret store"
)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "")


class WeakSecret(ValueError):
    """A secret that is still a placeholder, or too weak to protect anything."""


def require_secret(name, value):
    """`value` unchanged when it is a usable secret; WeakSecret naming `name` otherwise:
    a placeholder (`CHANGE-ME-*` from .env.example), fewer than 16 characters, fewer than
    8 distinct characters, or a well-known word."""
    text = "" if value is None else str(value)
    if PLACEHOLDER_MARK in text.lower().replace("_", "-") or "changeme" in text.lower():
        raise WeakSecret(
            f"{name} is still the placeholder from .env.example ({text!r}); {MAKE_SECRET_HINT}"
        )
    if len(text) < MIN_SECRET_CHARS or len(set(text)) < 8 or text.lower() in WEAK_SECRETS:
        raise WeakSecret(
            f"{name} is too weak (at least {MIN_SECRET_CHARS} characters, "
            f"not a common word); {MAKE_SECRET_HINT}"
        )
    return value


def _uri_password(uri):
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(uri)
    return parts.hostname or "", unquote(parts.password) if parts.password else None


def secret_problems(environ=None):
    """What is wrong with the secrets set in the environment (empty when all are good).
    Unset secrets are not checked here: each is either required by the deployment
    (compose's `${NAME:?}`, Kubernetes secrets) or generated locally by `make run`.
    A password inside AMQP_URI or MONGO_URI is checked when the server is not on this
    machine's loopback (RabbitMQ's guest user, for one, works on loopback only)."""
    environ = os.environ if environ is None else environ
    problems = []
    for name in ("AUTH_SIGNING_KEY", "BROKER_USERS_SECRET"):
        if environ.get(name):
            try:
                require_secret(name, environ[name])
            except WeakSecret as exc:
                problems.append(str(exc))
    # not secrets, but a placeholder left there means nothing would verify
    for name in ("AUTH_PUBLIC_KEYS",):
        if PLACEHOLDER_MARK in (environ.get(name) or "").lower():
            problems.append(
                f"{name} is still the placeholder from .env.example; set it to "
                "the output of `python -m ops.cli token keys` (docs/operations.md)"
            )
    for name, source in (("AMQP_URI", "RABBITMQ_PASSWORD"), ("MONGO_URI", "MONGO_PASSWORD")):
        host, password = _uri_password(environ.get(name) or "")
        if password is not None and host not in LOOPBACK_HOSTS:
            try:
                require_secret(f"the password in {name} ({source} in .env)", password)
            except WeakSecret as exc:
                problems.append(str(exc))
    return problems


def refuse_weak_secrets(process):
    """Called first thing by every process of the mesh: exit with a message naming each
    placeholder or weak secret, instead of starting with it."""
    import sys

    problems = secret_problems()
    if problems:
        sys.exit(f"{process}: refusing to start:\n  " + "\n  ".join(problems))
