"""Where the time goes: CPU per process, store operations and broker deliveries per
application (from the services' own /metrics), and a sampled function profile (py-spy)."""

import collections
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import procs

LABEL = re.compile(r'(\w+)="([^"]*)"')
OTHER = "other work on the machine"


class CpuWindow:
    """CPU seconds each process used between start() and stop()."""

    def __init__(self, pids):
        self.pids = dict(pids)
        self.before = {}
        self.started = None

    def start(self):
        self.before = {name: procs.cpu_seconds(pid) for name, pid in self.pids.items()}
        self.machine_before = procs.machine_cpu_seconds()
        self.started = time.monotonic()
        return self

    def stop(self):
        elapsed = time.monotonic() - self.started
        used = {}
        for name, pid in self.pids.items():
            now, then = procs.cpu_seconds(pid), self.before.get(name)
            if now is not None and then is not None:
                used[name] = now - then
        # everything else the machine did meanwhile: other users' work, the noise
        machine = procs.machine_cpu_seconds() - self.machine_before
        used[OTHER] = max(0.0, machine - sum(used.values()))
        return {"seconds": elapsed, "cpu": used}


def add_cpu(total, window):
    total["seconds"] = total.get("seconds", 0) + window["seconds"]
    for name, value in window["cpu"].items():
        total.setdefault("cpu", {})[name] = total.get("cpu", {}).get(name, 0) + value
    return total


def metrics_delta(before, after):
    """{service: {(name, labels): after - before}} for counters that moved."""
    delta = {}
    for service, series in after.items():
        old = before.get(service, {})
        moved = {
            key: value - old.get(key, 0)
            for key, value in series.items()
            if value - old.get(key, 0) > 0
        }
        if moved:
            delta[service] = moved
    return delta


def add_metrics(total, delta):
    for service, series in delta.items():
        bucket = total.setdefault(service, {})
        for key, value in series.items():
            bucket[key] = bucket.get(key, 0) + value
    return total


def labels(text):
    return dict(LABEL.findall(text))


def store_operations(delta, applications):
    """service -> command -> {per_application, mean_ms}, from mongo_operation_duration_seconds."""
    table = {}
    for service, series in delta.items():
        counts, sums = {}, {}
        for (name, label_text), value in series.items():
            command = labels(label_text).get("command")
            if name == "mongo_operation_duration_seconds_count":
                counts[command] = value
            elif name == "mongo_operation_duration_seconds_sum":
                sums[command] = value
        for command, count in counts.items():
            table.setdefault(service, {})[command] = {
                "per_application": round(count / applications, 2),
                "mean_ms": round(1000 * sums.get(command, 0) / count, 2),
            }
    return table


def deliveries(delta, applications):
    """Messages the mesh's services consumed per application, by service and entrypoint
    (an RPC counts twice: request and reply); timers and HTTP are not broker messages."""
    table = {}
    for service, series in delta.items():
        for (name, label_text), value in series.items():
            found = labels(label_text)
            if name.endswith("_entrypoint_calls_total") and found.get("kind") in (
                "event",
                "consumer",
                "rpc",
            ):
                weight = 2 if found["kind"] == "rpc" else 1
                key = f"{service}.{found['entrypoint']}"
                table[key] = table.get(key, 0) + weight * value / applications
            elif service == "departments-pika" and name == "departments_answers_total":
                key = f"{service}.{found.get('department', '?')}"
                table[key] = table.get(key, 0) + value / applications
    return {key: round(value, 2) for key, value in sorted(table.items())}


def counter(delta, service, metric):
    return sum(v for (name, _), v in delta.get(service, {}).items() if name == metric)


def sampled_profile(pids, seconds, out_dir, rate=50, top=12):
    """py-spy (when installed) on each process for `seconds`, only samples holding the GIL
    (CPU, not waiting); returns {name: [(share %, function), ...]} of own time."""
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(binary).exists():
        return {}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    running = {}
    for name, pid in pids.items():
        target = out_dir / f"py-spy-{name}.txt"
        running[name] = (
            target,
            subprocess.Popen(
                [
                    binary,
                    "record",
                    "--gil",
                    "-r",
                    str(rate),
                    "-d",
                    str(seconds),
                    "-f",
                    "raw",
                    "-o",
                    str(target),
                    "-p",
                    str(pid),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        )
    found = {}
    for name, (target, process) in running.items():
        try:
            process.wait(seconds + 30)
        except subprocess.TimeoutExpired:
            process.kill()
            continue
        if target.exists():
            found[name] = top_functions(target, top)
    return found


def top_functions(raw_file, top=12):
    """Own-time shares from a py-spy raw (collapsed stacks) file, grouped by function."""
    own = collections.Counter()
    total = 0
    for line in Path(raw_file).read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frame = stack.split(";")[-1]
        function = re.sub(r":\d+\)$", ")", frame)  # one row per function, not per line
        own[function] += int(count)
        total += int(count)
    return [(round(100 * n / total, 1), f) for f, n in own.most_common(top)] if total else []
