"""`make bench`: the mesh, the Celery chord and the raw broker ceiling, side by side in one run.

    .venv/bin/python -m bench.run [--soak-minutes 10] [--runs 3] [--ks 1,5,20] [--quick]
        [--inflight-sweep 16,32,64,128] [--ceiling-windows 1,16,128,1000]

Everything runs on this machine in one go, so the ratios compare like with like:
1. the broker ceiling first, with nothing else on the broker (pika, persistent 1.5 kB
   messages, publisher confirms pipelined over a sweep of in-flight windows, one consumer;
   the broker's CPU per message), median of the runs per window;
2. the benchmark catalog (bench_k1/k5/k20), the mesh (as `make run` starts it, isolated:
   virtual host onestop_bench, ports from 25000) and two Celery workers (same broker): the
   default chord (Redis results on the machine's Redis) and the durability-matched one
   (acks late, reject on worker lost, publisher confirms; results in a private
   redis-server with appendonly/everysec on port base + 30); every process's RSS at rest;
3. per K: applications per second at saturation over a sweep of applications in flight,
   the systems alternating, median of the runs per point and each system's best point
   (with the mesh's CPU, store and message profile summed over its runs; the Celery
   client's CPU counted in Celery's); then submit-to-decision latency of every system at
   half of the mesh's best maximum;
4. a sampled function profile (py-spy) of the store, routing and intake at K=5 saturation;
5. the soak: the mesh at half its K=5 maximum for --soak-minutes, RSS of every process
   sampled; the report says whether memory stayed flat.
The report goes to bench/results/<time>/report.md and report.json (and latest.md/json);
--publish also writes docs/benchmark.md. Every phase is bounded in time and count.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

warnings.filterwarnings("ignore", message="Eventlet is deprecated")

from bench import broker_ceiling, catalog_data, driver, procs, profile, report  # noqa: E402
from bench.celery_system import CelerySystem, PrivateRedis  # noqa: E402
from bench.mesh_system import MeshSystem, wait_quiet  # noqa: E402
from tests.support.mesh import reset_vhost  # noqa: E402
from ops import runner  # noqa: E402

PRIVATE_REDIS_OFFSET = 30  # the durability-matched Celery's redis-server: port base + this
SHARED_REDIS_PORT = 6379  # the machine's Redis (--redis-url's default)
CELERY_CLIENT = "celery client (apply_async)"

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--soak-minutes",
        type=float,
        default=None,
        help="soak at half load, minutes (default 10; 1 with --quick)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--ks", default="1,5,20", help="departments per application")
    parser.add_argument("--saturation-seconds", type=float, default=20.0)
    parser.add_argument("--warmup-seconds", type=float, default=4.0)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument(
        "--inflight-sweep",
        default="16,32,64,128",
        help="applications kept open at saturation (closed loop), each measured; the best counts",
    )
    parser.add_argument("--inflight", type=int, default=None, help="one point instead of the sweep")
    parser.add_argument("--ceiling-messages", type=int, default=20000)
    parser.add_argument(
        "--ceiling-windows",
        default=",".join(str(w) for w in broker_ceiling.WINDOWS),
        help="publishes in flight (unconfirmed) in the broker ceiling, each measured",
    )
    parser.add_argument(
        "--quick", action="store_true", help="development: one run, short phases, 1-minute soak"
    )
    parser.add_argument("--no-celery", action="store_true", help="measure the mesh alone")
    parser.add_argument(
        "--replicas",
        default="",
        help="scale-out: processes per service, e.g. routing=2,intake=2 (competing consumers)",
    )
    parser.add_argument(
        "--no-durable-celery",
        action="store_true",
        help="without the durability-matched Celery (its private redis-server)",
    )
    parser.add_argument(
        "--celery-concurrency",
        type=int,
        default=None,
        help="Celery prefork processes (default: Celery's, the CPU count)",
    )
    parser.add_argument("--vhost", default=os.environ.get("TEST_VHOST", "onestop_bench"))
    parser.add_argument(
        "--port-base", type=int, default=int(os.environ.get("TEST_PORT_BASE", "25000"))
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument(
        "--publish", action="store_true", help="also write the Markdown report to docs/benchmark.md"
    )
    args = parser.parse_args(argv)
    if args.soak_minutes is None:
        args.soak_minutes = 1.0 if args.quick else 10.0
    if args.quick:
        args.runs = 1
        args.saturation_seconds, args.warmup_seconds, args.latency_seconds = 10.0, 3.0, 10.0
        args.ceiling_messages = 10000
    args.ks = [int(k) for k in args.ks.split(",")]
    try:
        args.replicas = runner.replicas(args.replicas)
    except ValueError as exc:
        parser.error(str(exc))
    args.inflight_sweep = (
        [args.inflight] if args.inflight else [int(n) for n in args.inflight_sweep.split(",")]
    )
    args.ceiling_windows = [int(w) for w in args.ceiling_windows.split(",")]
    return args


def say(text):
    print(text, flush=True)


def machine():
    return {
        "nproc": os.cpu_count(),
        "load_average_at_start": list(procs.load_average()),
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "store": os.environ.get("MONGO_URI") or "embedded nx-27017 (MongoDB wire over SQLite)",
        "store_durability": store_durability(),
    }


def store_durability():
    """What a commit of the store survives (the report's header)."""
    if os.environ.get("MONGO_URI"):
        return (
            "a MongoDB of its own (MONGO_URI): the services write with the default write "
            "concern (w:1, no j), so a commit is journalled within the journal's commit "
            "interval (100 ms by default), not before it is acknowledged"
        )
    return (
        "no fsync at commit: nx-27017 keeps SQLite in WAL mode with synchronous=NORMAL "
        "(neosqlite's default; the services send no j:true), so every acknowledged change "
        "survives the crash of any process, but the last commits before a power loss or a "
        "kernel crash may be lost (the WAL is fsynced at checkpoints, not at each commit); "
        "docs/adr/0002"
    )


def rss_of(pids):
    return {name: round(procs.rss_mib(pid) or 0, 1) for name, pid in pids.items()}


def shared_pids():
    """The load generator (this process), the machine's broker and Redis: their CPU is shown
    next to the system's (other users' load on the broker and Redis is included, so those
    are upper bounds)."""
    found = {"load generator (bench)": os.getpid()}
    beam = procs.pids_named("beam.smp")
    if beam:
        found["rabbitmq (shared)"] = beam[0]
    # the machine's Redis (the default Celery's results), not the durable one's private one
    redis_server = [
        p for p in procs.pids_named("redis-server") if f":{SHARED_REDIS_PORT}" in procs.cmdline(p)
    ]
    if redis_server:
        found["redis (shared)"] = redis_server[0]
    return found


class Bench:
    def __init__(self, args):
        self.args = args
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.out = Path(args.out) / stamp
        self.out.mkdir(parents=True, exist_ok=True)
        self.result = {
            "started_at": stamp,
            "machine": machine(),
            "parameters": {k: v for k, v in vars(args).items() if k not in ("out",)},
            "load_samples": [],
        }
        self.mesh = None
        self.celeries = []
        self._load_thread = None
        self._stop = threading.Event()

    # -- the run -------------------------------------------------------------------
    def run(self):
        started = time.monotonic()
        try:
            self.ceiling()
            self.start_systems()
            for k in self.args.ks:
                self.scenario(k)
            self.function_profile()
            self.soak()
        finally:
            self._stop.set()
            self.stop_systems()
        self.result["duration_minutes"] = round((time.monotonic() - started) / 60, 1)
        self.result["machine"]["load_average_at_end"] = list(procs.load_average())
        return self.write()

    def start_systems(self):
        args = self.args
        say(
            f"bench: machine {os.cpu_count()} CPUs, load average "
            f"{' '.join(f'{x:.2f}' for x in procs.load_average())}; results in {self.out}"
        )
        departments = catalog_data.write(self.out / "catalog")
        say("bench: starting the mesh (as `make run` does) ...")
        self.mesh = MeshSystem(
            self.out / "mesh",
            self.out / "catalog",
            args.vhost,
            args.port_base,
            replicas=args.replicas,
        ).start()
        self.mesh.prepare(args.ks)
        if not args.no_celery:
            say("bench: starting the Celery worker (defaults) ...")
            self.celeries.append(
                CelerySystem(
                    self.out / "celery", self.mesh.amqp_uri, args.redis_url, args.celery_concurrency
                ).start(departments, self.mesh.bodies)
            )
            if not args.no_durable_celery:
                say(
                    "bench: starting the durability-matched Celery worker and its "
                    "redis-server (appendonly yes, appendfsync everysec) ..."
                )
                redis_server = PrivateRedis(
                    self.out / "redis-private", args.port_base + PRIVATE_REDIS_OFFSET
                )
                self.celeries.append(
                    CelerySystem(
                        self.out / "celery-durable",
                        self.mesh.amqp_uri,
                        concurrency=args.celery_concurrency,
                        durable=True,
                        private_redis=redis_server,
                    ).start(departments, self.mesh.bodies)
                )
                self.result["machine"]["durable_celery_redis"] = redis_server.config()
        self._load_thread = threading.Thread(target=self._sample_load, daemon=True)
        self._load_thread.start()
        time.sleep(5)
        self.result["memory"] = {"at_rest_mib": rss_of(self.mesh.processes())}
        for celery in self.celeries:
            self.result["memory"].setdefault("celery_at_rest_mib", {}).update(
                {f"{n} ({celery.name})": v for n, v in rss_of(celery.processes()).items()}
            )

    def _sample_load(self):
        while not self._stop.wait(10):
            self.result["load_samples"].append(round(procs.load_average()[0], 2))

    def stop_systems(self):
        for system in [*self.celeries, self.mesh]:
            if system is not None:
                try:
                    system.stop()
                except Exception as exc:  # report and go on stopping the rest
                    say(f"bench: stopping {system.name} failed: {exc!r}")
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        subprocess.run([ctl, "delete_vhost", self.args.vhost], capture_output=True)

    def ceiling(self):
        """Before the mesh starts: the broker has nothing else of ours to do."""
        args = self.args
        say(
            f"bench: broker ceiling (nothing else of ours on the broker), windows "
            f"{args.ceiling_windows}, {args.runs} run(s) of {args.ceiling_messages} messages ..."
        )
        uri = reset_vhost(args.vhost)
        found = broker_ceiling.sweep(
            uri,
            args.ceiling_messages,
            args.ceiling_windows,
            args.runs,
            progress=sys.stdout.isatty(),
        )
        self.result["broker_ceiling"] = found
        for window in found["windows"]:
            say(
                f"    window {window['window']:5d}: {window['messages_per_second']:8.0f} "
                f"messages/s, broker CPU {window['broker_cpu_ms_per_message']} ms/message"
            )

    def systems(self):
        return [self.mesh, *self.celeries]

    def scenario(self, k):
        args = self.args
        entry = {"k": k}
        for system in self.systems():
            entry[system.name] = {"saturation": []}
        cpu_total, metrics_total, decided = {}, {}, 0
        mesh_pids = dict(self.mesh.processes(), **shared_pids())
        for inflight in args.inflight_sweep:
            for run in range(1, args.runs + 1):
                wait_quiet(self.mesh)
                before = self.mesh.metrics()
                window = profile.CpuWindow(mesh_pids).start()
                outcome = driver.saturate(
                    self.mesh,
                    k,
                    inflight,
                    args.saturation_seconds,
                    args.warmup_seconds,
                    label=f"K={k} mesh, {inflight} in flight, {run}/{args.runs}",
                )
                profile.add_cpu(cpu_total, window.stop())
                profile.add_metrics(
                    metrics_total, profile.metrics_delta(before, self.mesh.metrics())
                )
                decided += outcome["decided"]
                entry["mesh"]["saturation"].append(outcome)
                for celery in self.celeries:
                    time.sleep(2)
                    entry[celery.name]["saturation"].append(
                        self.saturate_celery(celery, k, inflight, run)
                    )
        for system in self.systems():
            side = entry[system.name]
            side["by_inflight"] = {
                n: statistics.median(
                    r["apps_per_second"] for r in side["saturation"] if r["inflight"] == n
                )
                for n in args.inflight_sweep
            }
            best = max(side["by_inflight"], key=side["by_inflight"].get)
            side["best_inflight"] = best
            side["apps_per_second"] = side["by_inflight"][best]
        mesh_max = entry["mesh"]["apps_per_second"]
        entry["mesh"]["profile"] = {
            "applications": decided,
            "cpu_ms_per_application": {
                name: round(1000 * s / max(1, decided), 2)
                for name, s in cpu_total.get("cpu", {}).items()
            },
            "cpu_share_of_core": {
                name: round(s / cpu_total["seconds"], 3)
                for name, s in cpu_total.get("cpu", {}).items()
            },
            "store_operations": profile.store_operations(metrics_total, max(1, decided)),
            "deliveries_per_application": profile.deliveries(metrics_total, max(1, decided)),
            "write_conflicts_per_application": round(
                profile.counter(metrics_total, "routing", "routing_write_conflicts_total")
                / max(1, decided),
                3,
            ),
        }
        half = max(0.5, mesh_max / 2)
        entry["offered_per_second"] = round(half, 2)
        for system in self.systems():
            runs = []
            for run in range(1, args.runs + 1):
                if system is self.mesh:
                    wait_quiet(self.mesh)
                else:
                    time.sleep(2)
                runs.append(
                    driver.offer(
                        system,
                        k,
                        half,
                        args.latency_seconds,
                        label=f"K={k} {system.name} at {half:.1f}/s {run}/{args.runs}",
                    )
                )
            entry[system.name]["latency"] = {
                "runs": runs,
                **{
                    key: _median([r[key] for r in runs])
                    for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms")
                },
            }
        self.result.setdefault("scenarios", []).append(entry)
        line = f"bench: K={k}: " + ", ".join(
            f"{s.name} {entry[s.name]['apps_per_second']:.1f} apps/s "
            f"(best at {entry[s.name]['best_inflight']} in flight)"
            for s in self.systems()
        )
        say(
            line + f"; latency at {half:.1f}/s: mesh p50 {entry['mesh']['latency']['p50_ms']} "
            f"ms, p99 {entry['mesh']['latency']['p99_ms']} ms"
        )

    def saturate_celery(self, celery, k, inflight, run):
        """One saturation run of a Celery variant; its CPU per application with the
        client's (the submitting threads' CPU in apply_async) counted as Celery's."""
        window = profile.CpuWindow(dict(celery.processes(), **shared_pids())).start()
        client_before = celery.client_cpu_seconds
        outcome = driver.saturate(
            celery,
            k,
            inflight,
            self.args.saturation_seconds,
            self.args.warmup_seconds,
            label=f"K={k} {celery.name}, {inflight} in flight, {run}/{self.args.runs}",
        )
        cpu = window.stop()["cpu"]
        client = celery.client_cpu_seconds - client_before
        cpu[CELERY_CLIENT] = client
        cpu[report.LOADGEN] = max(0.0, cpu.get(report.LOADGEN, 0) - client)
        outcome["cpu_ms_per_application"] = {
            name: round(1000 * s / max(1, outcome["decided"]), 2) for name, s in cpu.items()
        }
        return outcome

    def function_profile(self):
        """py-spy on the store, routing and intake during a K=5 (or middle K) saturation run
        that is not counted in the numbers above."""
        k = 5 if 5 in self.args.ks else self.args.ks[len(self.args.ks) // 2]
        seconds = min(15, self.args.saturation_seconds)
        pids = {
            n: p for n, p in self.mesh.processes().items() if n in ("store", "routing", "intake")
        }
        wait_quiet(self.mesh)
        say(f"bench: sampled function profile at K={k} ({seconds:.0f} s, not counted) ...")
        found = {}
        thread = threading.Thread(
            target=lambda: found.update(
                profile.sampled_profile(pids, int(seconds), self.out / "py-spy")
            ),
            daemon=True,
        )
        thread.start()
        time.sleep(1)
        entry = next((s for s in self.result["scenarios"] if s["k"] == k), None)
        inflight = entry["mesh"]["best_inflight"] if entry else self.args.inflight_sweep[0]
        driver.saturate(self.mesh, k, inflight, seconds + 1, 1, label=f"K={k} mesh profiled")
        thread.join(seconds + 60)
        self.result["function_profile"] = {"k": k, "top_own_time": found}

    def soak(self):
        args = self.args
        k = 5 if 5 in args.ks else args.ks[0]
        entry = next(s for s in self.result["scenarios"] if s["k"] == k)
        rate = entry["offered_per_second"]
        seconds = args.soak_minutes * 60
        pids = self.mesh.processes()
        wait_quiet(self.mesh)
        samples, work = [], []
        interval = 30 if seconds >= 300 else 10

        own = dict(pids, **shared_pids())

        def sample():
            started = time.monotonic()
            window = profile.CpuWindow(own).start()
            while True:
                used = window.stop()
                other = used["cpu"].get(profile.OTHER, 0) / max(used["seconds"], 1e-6)
                samples.append({"t_s": round(time.monotonic() - started), **rss_of(pids)})
                work.append({"t_s": samples[-1]["t_s"], "other_work_cpus": round(other, 2)})
                window = profile.CpuWindow(own).start()
                if stop.wait(interval):
                    return

        stop = threading.Event()
        sampler = threading.Thread(target=sample, daemon=True)
        say(f"bench: soak, K={k} at {rate:.1f}/s for {args.soak_minutes:g} min ...")
        sampler.start()
        outcome = driver.offer(
            self.mesh, k, rate, seconds, drain_timeout=120, label=f"soak K={k}", interval_s=60
        )
        wait_quiet(self.mesh)
        time.sleep(5)
        stop.set()
        sampler.join(5)
        samples.append({"t_s": round(seconds) + 5, **rss_of(pids)})
        self.result["memory"]["soak"] = {
            "k": k,
            "offered_per_second": rate,
            "minutes": args.soak_minutes,
            "latency": outcome,
            "samples": samples,
            "other_work": work[1:],
            "verdict": report.memory_verdict(samples),
        }
        self.result["memory"]["after_soak_mib"] = {
            n: v for n, v in samples[-1].items() if n != "t_s"
        }

    # -- the report -----------------------------------------------------------------
    def write(self):
        self.result["targets"] = report.targets(self.result)
        markdown = report.markdown(self.result)
        (self.out / "report.json").write_text(json.dumps(self.result, indent=2, default=str))
        (self.out / "report.md").write_text(markdown)
        latest = Path(self.args.out)
        shutil.copyfile(self.out / "report.json", latest / "latest.json")
        shutil.copyfile(self.out / "report.md", latest / "latest.md")
        if self.args.publish:
            (ROOT / "docs" / "benchmark.md").write_text(markdown)
        say("\n" + markdown)
        say(f"bench: report in {self.out / 'report.md'} and {self.out / 'report.json'}")
        return 0


def _median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # a TERM (a CI time limit, `kill`) stops the run like Ctrl-C: everything it started too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    code = Bench(args).run()
    # everything is stopped and written: leave without the Celery client's exit-time
    # clean-up of results it no longer needs (it only prints tracebacks at shutdown)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
