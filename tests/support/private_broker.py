"""A RabbitMQ node of the test's own, started from the machine's RabbitMQ installation on
its own ports and folder, so that a fault test can stop and restart a real broker without
touching the machine's shared one (which other tests and a developer's `make run` use).

Needs the RabbitMQ server package (`/usr/lib/rabbitmq/bin/rabbitmq-server`), as the
machine's broker does. The node takes the machine broker's Erlang cookie, so that the
machine's `rabbitmqctl` (which runs as the rabbitmq user) reaches it when
RABBITMQ_NODENAME names it: `env()` is what a process of the mesh needs for that."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

BIN = Path(os.environ.get("RABBITMQ_BIN", "/usr/lib/rabbitmq/bin"))
MACHINE_COOKIE = Path("/var/lib/rabbitmq/.erlang.cookie")


def available():
    return (BIN / "rabbitmq-server").exists() and (BIN / "rabbitmqctl").exists()


class PrivateBroker:
    def __init__(self, folder, port, name="onestop-fault"):
        self.folder = Path(folder)
        self.port = port
        self.node = f"{name}-{port}@localhost"
        self.process = None
        self.uri = f"amqp://guest:guest@127.0.0.1:{port}/"

    def _env(self):
        folder = self.folder
        return dict(
            os.environ,
            HOME=str(folder),
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.port + 1),
            RABBITMQ_MNESIA_BASE=str(folder / "mnesia"),
            RABBITMQ_LOG_BASE=str(folder / "log"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(folder / "enabled_plugins"),
            RABBITMQ_PLUGINS_EXPAND_DIR=str(folder / "plugins-expand"),
            RABBITMQ_CONFIG_FILE=str(folder / "rabbitmq"),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(folder / "advanced.config"),
            RABBITMQ_CONF_ENV_FILE=str(folder / "rabbitmq-env.conf"),
            RABBITMQ_PID_FILE=str(folder / "pid"),
        )

    def env(self):
        """What a process needs so that `rabbitmqctl` reaches this node."""
        return {"RABBITMQ_NODENAME": self.node}

    def start(self, timeout=90):
        self.folder.mkdir(parents=True, exist_ok=True)
        cookie = self.folder / ".erlang.cookie"
        if MACHINE_COOKIE.exists() and not cookie.exists():
            shutil.copyfile(MACHINE_COOKIE, cookie)
            cookie.chmod(0o400)
        (self.folder / "enabled_plugins").write_text("[].\n")
        (self.folder / "rabbitmq-env.conf").touch()
        (self.folder / "rabbitmq.conf").write_text(f"listeners.tcp.default = {self.port}\n")
        log = open(self.folder / "server.log", "ab")
        self.process = subprocess.Popen(
            [str(BIN / "rabbitmq-server")],
            env=self._env(),
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the test broker exited: see {self.folder / 'server.log'}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the test broker did not listen on {self.port} in {timeout} s")

    def ctl(self, *args):
        return subprocess.run(
            [shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl", *args],
            env=dict(os.environ, **self.env()),
            capture_output=True,
            text=True,
            timeout=60,
        )

    def stop(self):
        """A clean broker shutdown (what a restart for an upgrade does): durable queues and
        persistent messages are kept on disk for the next start."""
        if self.process is None:
            return
        self.ctl("stop")
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(10)
        self.process = None

    def queue_depths(self):
        listed = self.ctl("list_queues", "-q", "--no-table-headers", "name", "messages")
        if listed.returncode != 0:
            raise RuntimeError(listed.stderr)
        depths = {}
        for line in listed.stdout.splitlines():
            parts = line.split()
            if len(parts) == 2:
                depths[parts[0]] = int(parts[1])
        return depths

    def remove(self):
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
