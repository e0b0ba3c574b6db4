"""A hung store never holds a worker for ever (security issue 14): every wait of the store
client is bounded (onestop/common/mongo.py connect(): connectTimeoutMS, socketTimeoutMS,
serverSelectionTimeoutMS). The attack: the store (or the network to it) goes silent —
connections stay open, nothing answers. A store call must come back with an error within
the bound instead of blocking."""

import time
from urllib.parse import urlparse

import pymongo
import pytest

from onestop.common.mongo import connect
from tests.support.tcp_proxy import CuttableProxy

SOCKET_TIMEOUT = 1.0
CONNECT_TIMEOUT = 1.0


@pytest.fixture
def stalling_store(mongo_uri, monkeypatch):
    monkeypatch.setenv("MONGO_SOCKET_TIMEOUT_SECONDS", str(SOCKET_TIMEOUT))
    monkeypatch.setenv("MONGO_CONNECT_TIMEOUT_SECONDS", str(CONNECT_TIMEOUT))
    proxy = CuttableProxy(urlparse(mongo_uri).port)
    client = connect(f"mongodb://127.0.0.1:{proxy.port}/")
    yield proxy, client
    client.close()
    proxy.close()  # waits for its pipes: nothing of it is left for the next test


def timed(call):
    start = time.monotonic()
    # ConnectionFailure: what the services treat as transient (503, message requeued)
    with pytest.raises(pymongo.errors.ConnectionFailure) as failure:
        call()
    return time.monotonic() - start, failure.value


def test_the_client_has_bounded_timeouts_by_default(monkeypatch):
    monkeypatch.delenv("MONGO_SOCKET_TIMEOUT_SECONDS", raising=False)
    monkeypatch.delenv("MONGO_CONNECT_TIMEOUT_SECONDS", raising=False)
    client = connect("mongodb://127.0.0.1:1/")
    try:
        pool = client.options.pool_options
        assert pool.socket_timeout == 15 and pool.connect_timeout == 5
        assert client.options.server_selection_timeout == 10
    finally:
        client.close()


def test_a_read_on_a_stalled_store_fails_within_the_bound(stalling_store, mongo_uri):
    proxy, client = stalling_store
    collection = client["it_store_timeouts"]["things"]
    collection.insert_one({"_id": "one"})
    assert collection.find_one({"_id": "one"}) == {"_id": "one"}
    proxy.stall()
    elapsed, error = timed(lambda: collection.find_one({"_id": "one"}))
    print(f"read on a stalled store failed after {elapsed:.2f} s: {type(error).__name__}")
    # one attempt and, reads being retryable, one retry: each bounded by the socket timeout
    # (or by server selection while the monitor cannot reach the store)
    assert SOCKET_TIMEOUT * 0.9 <= elapsed < 2 * SOCKET_TIMEOUT + 10 + 2
    proxy.restore()
    direct = connect(mongo_uri)
    try:
        assert direct["it_store_timeouts"]["things"].find_one({"_id": "one"})  # nothing lost
    finally:
        direct.close()
    client["it_store_timeouts"].drop_collection("things")


def test_a_write_on_a_stalled_store_fails_within_the_bound(stalling_store):
    proxy, client = stalling_store
    collection = client["it_store_timeouts"]["writes"]
    collection.insert_one({"_id": "first"})
    proxy.stall()
    elapsed, error = timed(lambda: collection.insert_one({"_id": "second"}))
    print(f"write on a stalled store failed after {elapsed:.2f} s: {type(error).__name__}")
    assert SOCKET_TIMEOUT * 0.9 <= elapsed < 2 * SOCKET_TIMEOUT + 10 + 2
    proxy.restore()
    client["it_store_timeouts"].drop_collection("writes")


def test_a_new_connection_to_a_stalled_store_fails_within_the_bound(stalling_store):
    """A store that accepts connections and never answers the handshake."""
    proxy, _ = stalling_store
    proxy.stall()
    fresh = connect(f"mongodb://127.0.0.1:{proxy.port}/", serverSelectionTimeoutMS=3000)
    try:
        elapsed, error = timed(lambda: fresh["it_store_timeouts"]["things"].find_one())
        print(f"first call to a stalled store failed after {elapsed:.2f} s: {type(error).__name__}")
        assert elapsed < 3 + CONNECT_TIMEOUT + 2
    finally:
        fresh.close()
