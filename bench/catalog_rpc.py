"""Benchmark: catalog RPC latency with the full catalog loaded.

    .venv/bin/python bench/catalog_rpc.py [--calls 400] [--json]

Starts what it needs on its own (an embedded store on a free port, its own RabbitMQ
virtual host, one catalog service process), calls get_scenario and plan over RPC for
all 26 packages in turn, and reports p50/p99 per method. Both are answered from
memory after load, so the numbers are the cost of the RPC round trip itself.
With --amqp-uri (and no store of its own) it measures an already running catalog.
"""

import argparse
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message="Eventlet is deprecated")

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from services.catalog.domain import load_data  # noqa: E402

REGION = "430102"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up in {timeout}s")


def own_vhost(name):
    """A virtual host of the benchmark's own, so a running mesh's catalog is not disturbed."""
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    if not Path(ctl).exists():
        raise RuntimeError("rabbitmqctl is not available: give --amqp-uri of a running catalog")
    subprocess.run([ctl, "delete_vhost", name], capture_output=True)
    subprocess.run([ctl, "add_vhost", name], check=True, capture_output=True)
    subprocess.run(
        [ctl, "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    return f"amqp://guest:guest@127.0.0.1:5672/{name}"


class OwnCatalog:
    """An embedded store and one catalog service process, stopped on exit."""

    def __init__(self, vhost):
        self.vhost = vhost
        self.processes = []
        self.workdir = Path(tempfile.mkdtemp(prefix="catalog-bench-"))

    def __enter__(self):
        store_port, http_port = free_port(), free_port()
        binary = Path(sys.executable).with_name("nx-27017")
        self._spawn(
            "store",
            [
                str(binary),
                "--data-dir",
                str(self.workdir),
                "-p",
                str(store_port),
                "--log-file",
                str(self.workdir / "nx.log"),
                "--pid-file",
                str(self.workdir / "nx.pid"),
            ],
            os.environ,
        )
        wait_until(
            lambda: socket.create_connection(("127.0.0.1", store_port), 0.5).close() or True,
            30,
            "the embedded store",
        )
        self.amqp_uri = own_vhost(self.vhost)
        env = dict(
            os.environ,
            AMQP_URI=self.amqp_uri,
            PYTHONPATH=str(ROOT),
            MONGO_URI=f"mongodb://127.0.0.1:{store_port}/",
            CATALOG_PORT=str(http_port),
            MONGO_DB_PREFIX=f"bench{uuid.uuid4().hex[:6]}_",
        )
        self._spawn("catalog", [sys.executable, "-m", "onestop.run_service", "catalog"], env)
        wait_until(
            lambda: requests.get(f"http://127.0.0.1:{http_port}/health", timeout=1).ok,
            60,
            "the catalog service",
        )
        return self

    def _spawn(self, name, command, env):
        log = open(self.workdir / f"{name}.log", "ab")
        self.processes.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        )

    def __exit__(self, *exc):
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)
        subprocess.run(
            [shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl", "delete_vhost", self.vhost],
            capture_output=True,
        )


def percentile(sorted_values, fraction):
    """Nearest-rank percentile."""
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def summary(latencies):
    values = sorted(latencies)
    return {
        "calls": len(values),
        "p50_ms": round(percentile(values, 0.50) * 1000, 2),
        "p99_ms": round(percentile(values, 0.99) * 1000, 2),
        "max_ms": round(values[-1] * 1000, 2),
        "per_second": round(len(values) / sum(values), 1),
    }


def measure(amqp_uri, calls, warmup):
    scenarios = load_data()["scenarios"]
    requests_ = [
        (s["code"], [e["item"] for e in s["items"] if e.get("optional")]) for s in scenarios
    ]
    timings = {"get_scenario": [], "plan": []}
    with ClusterRpcProxy({"AMQP_URI": amqp_uri, "serializer": "json"}) as cluster:
        catalog = cluster.catalog
        for index in range(warmup + calls):
            code, optional = requests_[index % len(requests_)]
            started = time.perf_counter()
            view = catalog.get_scenario(code)
            middle = time.perf_counter()
            plan = catalog.plan(code, REGION, optional)
            ended = time.perf_counter()
            if view is None or "error" in plan:
                raise RuntimeError(f"catalog answered badly for {code}: {plan}")
            if index >= warmup:
                timings["get_scenario"].append(middle - started)
                timings["plan"].append(ended - middle)
    return {method: summary(values) for method, values in timings.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="calls per method (measured)")
    parser.add_argument("--warmup", type=int, default=26, help="calls per method not measured")
    parser.add_argument("--amqp-uri", help="measure the catalog already serving at this broker")
    parser.add_argument(
        "--vhost",
        default="onestop_bench_catalog",
        help="the benchmark's own virtual host (when it starts its own catalog)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    data = load_data()
    if args.amqp_uri:
        result = measure(args.amqp_uri, args.calls, args.warmup)
    else:
        with OwnCatalog(args.vhost) as own:
            result = measure(own.amqp_uri, args.calls, args.warmup)
    result["catalog"] = {"scenarios": len(data["scenarios"]), "items": len(data["items"])}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"catalog RPC with {len(data['scenarios'])} packages and {len(data['items'])} "
            f"items loaded ({args.calls} calls per method, one client, sequential):"
        )
        for method in ("get_scenario", "plan"):
            r = result[method]
            print(
                f"  {method:<13} p50 {r['p50_ms']:7.2f} ms   p99 {r['p99_ms']:7.2f} ms   "
                f"max {r['max_ms']:7.2f} ms   {r['per_second']:7.1f}/s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
