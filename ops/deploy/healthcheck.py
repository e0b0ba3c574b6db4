"""The container healthcheck: `python -m ops.deploy.healthcheck` (exit 0 when healthy).

ONESTOP_PROCESS names the process this container runs (a runner process
name); its own port answers /health (or /metrics for the pika department
consumer, which serves nothing else).
"""

import sys
import urllib.request

from onestop.common import config

PATHS = {"departments-pika": "/metrics"}


def main():
    name = config.env("ONESTOP_PROCESS", "")
    if not name:
        print("ONESTOP_PROCESS is not set", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{config.port_of(name)}{PATHS.get(name, '/health')}"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"{name}: {url} did not answer: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
