"""The documented settings reach the libraries that read them."""
from nameko.containers import ServiceContainer
from nameko.rpc import rpc

from onestop.common.broker_users import department_nameko_config
from onestop.common.config import nameko_config


class Probe:
    name = "probe"

    @rpc
    def ping(self):
        return "pong"


def test_max_workers_sets_nameko_worker_pool_and_prefetch(monkeypatch):
    monkeypatch.setenv("MAX_WORKERS", "3")
    for config in (nameko_config("routing"), department_nameko_config("departments-nameko")):
        container = ServiceContainer(Probe, config)
        assert container.max_workers == 3
        consumer = next(e for e in container.extensions if type(e).__name__ == "RpcConsumer")
        assert consumer.queue_consumer.prefetch_count == 3


def test_max_workers_defaults_to_ten(monkeypatch):
    monkeypatch.delenv("MAX_WORKERS", raising=False)
    assert ServiceContainer(Probe, nameko_config("routing")).max_workers == 10
