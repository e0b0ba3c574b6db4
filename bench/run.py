"""`make bench`: the mesh, the Celery chord and the raw broker ceiling, side by side in one run.

    .venv/bin/python -m bench.run [--soak-minutes 10] [--runs 3] [--ks 1,5,20] [--quick]

Everything runs on this machine in one go, so the ratios compare like with like:
1. the benchmark catalog (bench_k1/k5/k20), the mesh (as `make run` starts it, isolated:
   virtual host onestop_bench, ports from 25000) and a Celery worker (same broker, Redis
   results); every process's RSS at rest;
2. the broker ceiling (pika, persistent, confirms), median of the runs;
3. per K: applications per second at saturation, mesh and Celery alternating, median of
   the runs (with the mesh's CPU, store and message profile summed over its runs); then
   submit-to-decision latency of both at half of the mesh's median maximum;
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
from bench.celery_system import CelerySystem  # noqa: E402
from bench.mesh_system import MeshSystem, wait_quiet  # noqa: E402

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
        "--inflight",
        type=int,
        default=32,
        help="applications kept open at saturation (closed loop)",
    )
    parser.add_argument("--ceiling-messages", type=int, default=20000)
    parser.add_argument(
        "--quick", action="store_true", help="development: one run, short phases, 1-minute soak"
    )
    parser.add_argument("--no-celery", action="store_true", help="measure the mesh alone")
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
        args.saturation_seconds, args.warmup_seconds, args.latency_seconds = 12.0, 3.0, 10.0
        args.ceiling_messages = 6000
    args.ks = [int(k) for k in args.ks.split(",")]
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
    }


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
    redis_server = [p for p in procs.pids_named("redis-server")]
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
        self.mesh = self.celery = None
        self._load_thread = None
        self._stop = threading.Event()

    # -- the run -------------------------------------------------------------------
    def run(self):
        started = time.monotonic()
        try:
            self.start_systems()
            self.ceiling()
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
            self.out / "mesh", self.out / "catalog", args.vhost, args.port_base
        ).start()
        self.mesh.prepare(args.ks)
        if not args.no_celery:
            say("bench: starting the Celery worker ...")
            self.celery = CelerySystem(
                self.out / "celery", self.mesh.amqp_uri, args.redis_url, args.celery_concurrency
            ).start(departments, self.mesh.bodies)
        self._load_thread = threading.Thread(target=self._sample_load, daemon=True)
        self._load_thread.start()
        time.sleep(5)
        self.result["memory"] = {"at_rest_mib": rss_of(self.mesh.processes())}
        if self.celery:
            self.result["memory"]["celery_at_rest_mib"] = rss_of(self.celery.processes())

    def _sample_load(self):
        while not self._stop.wait(10):
            self.result["load_samples"].append(round(procs.load_average()[0], 2))

    def stop_systems(self):
        for system in (self.celery, self.mesh):
            if system is not None:
                try:
                    system.stop()
                except Exception as exc:  # report and go on stopping the rest
                    say(f"bench: stopping {system.name} failed: {exc!r}")
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        subprocess.run([ctl, "delete_vhost", self.args.vhost], capture_output=True)

    def ceiling(self):
        say(
            f"bench: broker ceiling, {self.args.runs} run(s) of "
            f"{self.args.ceiling_messages} messages ..."
        )
        runs = [
            broker_ceiling.measure(
                self.mesh.amqp_uri, self.args.ceiling_messages, progress=sys.stdout.isatty()
            )
            for _ in range(self.args.runs)
        ]
        rates = [r["messages_per_second"] for r in runs]
        self.result["broker_ceiling"] = {
            "runs": runs,
            "median_messages_per_second": statistics.median(rates),
        }
        say(f"    broker ceiling: {statistics.median(rates):.0f} messages/s (runs: {rates})")

    def scenario(self, k):
        args = self.args
        entry = {"k": k, "mesh": {"saturation": []}, "celery": {"saturation": []}}
        cpu_total, metrics_total, decided = {}, {}, 0
        mesh_pids = dict(self.mesh.processes(), **shared_pids())
        for run in range(1, args.runs + 1):
            wait_quiet(self.mesh)
            before = self.mesh.metrics()
            window = profile.CpuWindow(mesh_pids).start()
            outcome = driver.saturate(
                self.mesh,
                k,
                args.inflight,
                args.saturation_seconds,
                args.warmup_seconds,
                label=f"K={k} mesh saturation {run}/{args.runs}",
            )
            profile.add_cpu(cpu_total, window.stop())
            profile.add_metrics(metrics_total, profile.metrics_delta(before, self.mesh.metrics()))
            decided += outcome["decided"]
            entry["mesh"]["saturation"].append(outcome)
            if self.celery:
                time.sleep(2)
                window = profile.CpuWindow(dict(self.celery.processes(), **shared_pids())).start()
                outcome = driver.saturate(
                    self.celery,
                    k,
                    args.inflight,
                    args.saturation_seconds,
                    args.warmup_seconds,
                    label=f"K={k} Celery saturation {run}/{args.runs}",
                )
                cpu = window.stop()
                outcome["cpu_ms_per_application"] = {
                    name: round(1000 * s / max(1, outcome["decided"]), 2)
                    for name, s in cpu["cpu"].items()
                }
                entry["celery"]["saturation"].append(outcome)
        mesh_max = statistics.median(r["apps_per_second"] for r in entry["mesh"]["saturation"])
        entry["mesh"]["apps_per_second"] = mesh_max
        if self.celery:
            entry["celery"]["apps_per_second"] = statistics.median(
                r["apps_per_second"] for r in entry["celery"]["saturation"]
            )
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
        for system in (self.mesh, self.celery):
            if system is None:
                continue
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
        line = f"bench: K={k}: mesh {mesh_max:.1f} apps/s"
        if self.celery:
            line += f", Celery {entry['celery']['apps_per_second']:.1f} apps/s"
        say(
            line + f"; latency at {half:.1f}/s: mesh p50 {entry['mesh']['latency']['p50_ms']} "
            f"ms, p99 {entry['mesh']['latency']['p99_ms']} ms"
        )

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
        driver.saturate(
            self.mesh, k, self.args.inflight, seconds + 1, 1, label=f"K={k} mesh profiled"
        )
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
