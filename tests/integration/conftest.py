"""Integration tests: real RabbitMQ (own virtual host) and the real embedded store."""

import eventlet

eventlet.monkey_patch()  # noqa: E402  nameko containers need a patched process

import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

import pymongo  # noqa: E402
import pytest  # noqa: E402

from tests.support.mesh import reset_vhost  # noqa: E402


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory):
    """The embedded store, or a real MongoDB given as MONGO_URI_EXTERNAL."""
    if os.environ.get("MONGO_URI_EXTERNAL"):
        yield os.environ["MONGO_URI_EXTERNAL"]
        return
    port = free_port()
    data = tmp_path_factory.mktemp("store")
    binary = Path(sys.executable).with_name("nx-27017")
    process = subprocess.Popen(
        [
            str(binary),
            "--data-dir",
            str(data),
            "-p",
            str(port),
            "--log-file",
            str(data / "nx.log"),
            "--pid-file",
            str(data / "nx.pid"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    uri = f"mongodb://127.0.0.1:{port}/"
    os.environ["MONGO_URI"] = uri
    yield uri
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:  # the store does not always stop on SIGTERM
        process.kill()
        process.wait(10)


@pytest.fixture(scope="session")
def embedded_store():
    return not os.environ.get("MONGO_URI_EXTERNAL")


@pytest.fixture
def db(mongo_uri):
    client = pymongo.MongoClient(mongo_uri)
    name = f"it_{uuid.uuid4().hex[:10]}"
    yield client[name]
    client.drop_database(name)
    client.close()


@pytest.fixture(scope="session")
def amqp_uri():
    # an empty virtual host each run: durable queues keep what an earlier run left in them
    # (a request whose worker was killed at teardown is requeued and redelivered next time)
    uri = reset_vhost(os.environ.get("TEST_VHOST", "onestop_test") + "_it")
    os.environ["AMQP_URI"] = uri
    return uri


@pytest.fixture
def nameko_config(amqp_uri, mongo_uri):
    return {
        "AMQP_URI": amqp_uri,
        "MONGO_URI": mongo_uri,
        "serializer": "json",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "max_workers": 4,
    }
