"""`python -m ops.deploy` writes the generated deployment files; `--check` compares them."""

import contextlib
import os
import sys

from ops.deploy import compose, grafana, kubernetes, prometheus, rabbitmq

GENERATORS = (compose, prometheus, rabbitmq, grafana, kubernetes)


@contextlib.contextmanager
def default_environment():
    """Generate from the defaults, never from this shell's port or host overrides, nor from
    its keys or the screens' settings (the runner copies AUTH_SIGNING_KEY and WEB_* into the
    screens' environment: a generated file must never carry a key from this shell)."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if (
            name.endswith(("_PORT", "_HOST"))
            or name.startswith(("WEB_", "AUTH_"))
            or name
            in (
                "AMQP_URI",
                "MONGO_URI",
                "BIND_HOST",
                "DEPARTMENT_AMQP_URIS",
                "EXTERNAL_DEPARTMENTS",
                "BROKER_USER_PREFIX",
                "DEPARTMENTS",
            )
        ):
            del os.environ[name]
    # a stand-in, so that generating never creates or reads a real secret
    os.environ["BROKER_USERS_SECRET"] = "generation-only-not-a-secret"
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def generated_files():
    with default_environment():
        files = {}
        for generator in GENERATORS:
            files.update(generator.generated_files())
        return files


def stale_files():
    """Paths whose committed content differs from what the generators write."""
    return sorted(
        str(path)
        for path, text in generated_files().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--check"]:
        stale = stale_files()
        for path in stale:
            print(f"out of date: {path} (run `python -m ops.deploy`)", file=sys.stderr)
        return 1 if stale else 0
    for path, text in generated_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
