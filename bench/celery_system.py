"""The Celery chord baseline (bench/celery_app.py), driven like the mesh.

One worker (`celery worker`, prefork pool, default concurrency = CPU count) on the
benchmark's virtual host; Redis result backend under a key prefix of this run's own.
`submit(k)` applies a chord of K department tasks with the combining callback; the
callback pushes the decision onto a Redis list that a listener thread pops.

Two variants, each with its own queue and worker: `celery` (Celery's defaults) and
`celery-durable` (acks late, reject on worker lost, publisher confirms; its results in a
private redis-server with `appendonly yes`, `appendfsync everysec`, started and removed
here: PrivateRedis). The CPU the client spends in `submit` (serialising and publishing
the chord, the work a Celery application does itself where the mesh's gateway and intake
do it) is counted per thread (`client_cpu_seconds`) and booked to Celery, not to the load
generator.
"""

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import redis

from bench import procs
from onestop.contracts import messages as contract
from onestop.contracts.envelope import make_envelope

ROOT = Path(__file__).resolve().parents[1]


class CeleryDecisionListener(threading.Thread):
    def __init__(self, backend, key):
        super().__init__(daemon=True)
        self.client = redis.Redis.from_url(backend)
        self.key = key
        self.tracker = None
        self.stopping = False
        self.seen = 0

    def run(self):
        while not self.stopping:
            popped = self.client.brpop(self.key, timeout=1)
            if popped is None:
                continue
            received = time.time()  # as for the mesh: when the decision reached us
            decision = json.loads(popped[1])
            self.seen += 1
            if self.tracker is not None:
                self.tracker.decided_event(decision["application_id"], received)


class PrivateRedis:
    """A redis-server of the benchmark's own (port, directory), with the append-only file
    written and fsynced every second; stopped and its directory removed by stop()."""

    def __init__(self, data_dir, port):
        self.data_dir = Path(data_dir)
        self.port = port
        self.process = None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self, timeout=20):
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(server).exists():
            raise RuntimeError(
                "the durability-matched Celery needs redis-server (Debian: apt-get install "
                "redis-server), or run with --no-durable-celery"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / "redis.log", "ab")
        self.process = subprocess.Popen(
            [
                server,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.data_dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return self
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis-server did not start; see {self.data_dir}")
                time.sleep(0.2)

    def config(self):
        client = redis.Redis.from_url(self.url)
        return {
            key: client.config_get(key).get(key) for key in ("appendonly", "appendfsync", "save")
        }

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


class CelerySystem:
    def __init__(
        self,
        data_dir,
        amqp_uri,
        backend="redis://127.0.0.1:6379/0",
        concurrency=None,
        durable=False,
        private_redis=None,
    ):
        """private_redis: a PrivateRedis (not started) for the durable variant's results."""
        self.name = "celery-durable" if durable else "celery"
        self.durable = durable
        self.data_dir = Path(data_dir)
        self.private_redis = private_redis
        if private_redis is not None:
            backend = private_redis.url
        self.prefix = f"onestop_bench_{uuid.uuid4().hex[:8]}:"
        self.queue = f"onestop_bench.{self.name}"
        self.amqp_uri = amqp_uri
        self.env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            BENCH_CELERY_BROKER=amqp_uri,
            BENCH_CELERY_BACKEND=backend,
            BENCH_CELERY_PREFIX=self.prefix,
            BENCH_CELERY_QUEUE=self.queue,
            BENCH_CELERY_DURABLE="1" if durable else "0",
        )
        self.backend = backend
        self.concurrency = concurrency
        self.process = None
        self.listener = None
        self.departments = []
        self.bodies = {}
        self.client_cpu_seconds = 0.0
        self._cpu_lock = threading.Lock()

    def start(self, departments, bodies):
        """departments: the bench_k20 departments in order; bodies: k -> the mesh's sample
        application body (so both systems carry the same applicant, form and materials)."""
        self.departments = departments
        self.bodies = bodies
        from bench import celery_app

        if self.private_redis is not None:
            self.private_redis.start()
        self.app = celery_app.create(
            self.amqp_uri, self.backend, self.prefix, self.queue, self.durable
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "bench.celery_app",
            "worker",
            "--loglevel",
            "WARNING",
            "-Q",
            self.queue,
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"{self.name}-{self.prefix.rstrip(':')}@%h",  # two workers on one host
        ]
        if self.concurrency:
            command += ["--concurrency", str(self.concurrency)]
        log = open(self.data_dir / "celery-worker.log", "ab")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.listener = CeleryDecisionListener(self.backend, celery_app.decided_key(self.prefix))
        self.listener.start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()  # never leave a worker behind when the start fails
            raise
        return self

    def _wait_ready(self, timeout=60):
        """A one-task chord answered end to end means the worker is consuming."""
        from bench.driver import Tracker

        tracker = Tracker()
        self.listen(tracker)
        deadline = time.monotonic() + timeout
        application_id = self.submit(min(self.bodies))
        tracker.submit_done(application_id, time.time())
        while tracker.matched == 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the Celery worker did not answer; see {self.data_dir / 'celery-worker.log'}"
                )
            time.sleep(0.2)

    def stop(self):
        gc.collect()  # the chords' AsyncResults unsubscribe now, not at interpreter exit
        if self.listener is not None:
            self.listener.stopping = True
            self.listener.join(3)
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        try:
            client = redis.Redis.from_url(self.backend)
            for key in client.scan_iter(match=f"{self.prefix}*", count=1000):
                client.delete(key)
        except redis.RedisError:
            pass
        if self.private_redis is not None:
            self.private_redis.stop()

    # -- driving -----------------------------------------------------------------
    def listen(self, tracker):
        self.listener.tracker = tracker

    def task_messages(self, k, application_id):
        """The K task envelopes the mesh would send for this application."""
        body = self.bodies[k]
        messages = []
        for index, department in enumerate(self.departments[:k], start=1):
            item = f"BENCH-{index:02d}"
            payload = {
                "task_id": f"{application_id}:{item}",
                "application_id": application_id,
                "scenario": f"bench_k{k}",
                "item_code": item,
                "item_name": f"Benchmark item of {department}",
                "department": department,
                "office": "430100",
                "region": "430100",
                "level": "city",
                "applicant": body["applicant"],
                "form": body["form"],
                "materials": body["materials"],
                "inputs": {},
                "due": "",
                "attempt": 1,
                "item_materials": ["applicant_id_card"],
            }
            messages.append(make_envelope(contract.TASK, application_id, payload))
        return messages

    def submit(self, k):
        from celery import chord

        started = time.thread_time()
        application_id = uuid.uuid4().hex
        header = [
            self.app.signature("bench.decide", args=(m,))
            for m in self.task_messages(k, application_id)
        ]
        chord(header, app=self.app)(self.app.signature("bench.combine", args=(application_id,)))
        used = time.thread_time() - started
        with self._cpu_lock:
            self.client_cpu_seconds += used
        return application_id

    # -- observing ---------------------------------------------------------------
    def processes(self):
        found = {"celery-worker": self.process.pid}
        for index, pid in enumerate(sorted(procs.descendants(self.process.pid)), start=1):
            found[f"celery-pool-{index}"] = pid
        if self.private_redis is not None and self.private_redis.process is not None:
            found["redis (private, appendonly)"] = self.private_redis.process.pid
        return found
