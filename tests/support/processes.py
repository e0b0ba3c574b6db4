"""The mesh's processes started one by one (the same commands `make run` uses, from
`python -m ops.runner --list-processes`), so fault tests can kill -9 and restart
any of them while the others keep running."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


from onestop.common import config
from ops.runner import wait_until_healthy
from tests.support.mesh import PORT_OFFSETS, ROOT, mesh_env


def wait_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


class ProcessMesh:
    def __init__(self, data_dir, amqp_uri, port_base, extra_env=None):
        self.data_dir = Path(data_dir)
        self.port_base = port_base
        self.base = f"http://127.0.0.1:{port_base}"
        store_port = port_base + PORT_OFFSETS["embedded-mongo"]
        self.env = dict(
            mesh_env(self.data_dir, amqp_uri, port_base),
            MONGO_URI=f"mongodb://127.0.0.1:{store_port}/",
            PYTHONUNBUFFERED="1",
            **(extra_env or {}),
        )
        self.store_port = store_port
        self.table = {}
        self.running = {}
        self.store = None

    def client(self, **kwargs):
        from onestop.client import Client

        return Client(self.base, key=self.env["AUTH_SIGNING_KEY"], **kwargs)

    def _spawn(self, name, command, env):
        log = open(self.data_dir / f"{name}.log", "ab")
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start(self):
        """Start everything; on any failure stop what was started (no stray store or
        service left listening on the test's ports) and raise."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            (self.data_dir / "mongo").mkdir(exist_ok=True)
            self.start_store()
            listed = subprocess.run(
                [sys.executable, "-m", "ops.runner", "--list-processes"],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                check=True,
            )
            self.table = json.loads(listed.stdout)
            subprocess.run(
                [sys.executable, "-m", "ops.runner", "--prepare-only"],
                cwd=ROOT,
                env=self.env,
                check=True,
                capture_output=True,
            )
            for name in self.table:
                self.start_process(name)
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def start_store(self):
        """Start the embedded store on its port and data folder (again, after stop_store:
        what it had written is still there)."""
        self.store = self._spawn(
            "store",
            [
                str(Path(sys.executable).with_name("nx-27017")),
                "--data-dir",
                str(self.data_dir / "mongo"),
                "-p",
                str(self.store_port),
                "--log-file",
                str(self.data_dir / "nx.log"),
                "--pid-file",
                str(self.data_dir / "nx.pid"),
            ],
            self.env,
        )
        wait_port(self.store_port)

    def stop_store(self):
        """The store goes away as in a crash: SIGKILL, nothing flushed on the way out."""
        if self.store and self.store.poll() is None:
            os.killpg(self.store.pid, signal.SIGKILL)
            self.store.wait(30)

    def start_process(self, name, as_name=None, extra_env=None):
        spec = self.table[name]
        env = dict(self.env, **spec["env"], **(extra_env or {}))
        self.running[as_name or name] = self._spawn(as_name or name, spec["command"], env)

    def kill(self, name, sig=signal.SIGKILL):
        process = self.running.pop(name)
        os.killpg(process.pid, sig)
        process.wait(30)

    def restart(self, name, **kwargs):
        if name in self.running:
            self.kill(name)
        self.start_process(name, **kwargs)

    def wait_healthy(self, timeout=90):
        """Every service, the screens (web) and the gateway answer /health, as `make run`
        waits for them (ops.runner.health_urls)."""
        urls = {
            name: f"http://127.0.0.1:{self.port_base + PORT_OFFSETS[name]}/health"
            for name in (*config.SERVICES, *config.FRONTENDS)
        }
        urls["gateway"] = f"{self.base}/health"
        pending = wait_until_healthy(urls, timeout, interval=0.2)
        if pending:
            raise RuntimeError(f"not healthy: {pending}")

    def stop(self):
        stopping = []
        for name in list(self.running):
            process = self.running.pop(name)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                stopping.append(process)
        deadline = time.monotonic() + 15
        for process in stopping:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self.store and self.store.poll() is None:
            self.store.terminate()
            try:
                self.store.wait(10)
            except subprocess.TimeoutExpired:  # the store does not always stop on SIGTERM
                self.store.kill()
                self.store.wait(10)
