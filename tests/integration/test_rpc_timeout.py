"""RPC with a time limit (onestop/common/rpc.py) between real nameko containers on the real
broker: a slow service answers 503 over HTTP instead of holding the request, and a consumer
requeues its message instead of dead-lettering it."""

import eventlet
import pytest
from nameko.exceptions import RemoteError
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from onestop.common.rpc import TimedRpcProxy


class Slow:
    name = "it_slow"

    @rpc
    def answer(self, seconds):
        eventlet.sleep(seconds)
        return "answered"


class Asking:
    name = "it_asking"
    slow = TimedRpcProxy("it_slow")

    @rpc
    def ask(self, seconds):
        return self.slow.answer(seconds)


@pytest.fixture
def asking(container_factory, nameko_config, monkeypatch):
    monkeypatch.setenv("RPC_TIMEOUT_SECONDS", "0.5")
    containers = [container_factory(service, nameko_config) for service in (Slow, Asking)]
    for container in containers:
        container.start()
    with ServiceRpcProxy("it_asking", nameko_config) as proxy:
        yield proxy
    # let a slow answer still running finish and be acknowledged: killed at teardown, its
    # request would be requeued in the durable queue and hold a worker of the next test
    with eventlet.Timeout(5):
        while any(container._worker_threads for container in containers):
            eventlet.sleep(0.05)


def test_an_answer_in_time_is_returned(asking):
    assert asking.ask(0) == "answered"


def test_no_answer_in_time_raises_rpc_timeout(asking):
    started = eventlet.hubs.get_hub().clock()
    with pytest.raises(RemoteError) as raised:
        asking.ask(3)
    assert raised.value.exc_type == "RpcTimeout"
    assert "it_slow.answer did not answer within 0.5 s" in raised.value.value
    assert eventlet.hubs.get_hub().clock() - started < 2.5


def test_a_timed_out_rpc_is_transient_for_consumers_and_unavailable_for_http():
    from nameko.exceptions import RpcTimeout
    from onestop.common.http import UNAVAILABLE_ERRORS
    from onestop.common.messaging import TRANSIENT_ERRORS

    assert issubclass(RpcTimeout, TRANSIENT_ERRORS) and issubclass(RpcTimeout, UNAVAILABLE_ERRORS)
