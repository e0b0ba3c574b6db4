"""RPC to another service with a time limit.

nameko 2.14's `RpcProxy` dependency waits for a reply for ever: a request that needs the
catalog or the license service while it is down held its worker (and, over HTTP, the
client) until the gateway gave up. `TimedRpcProxy` is the same proxy with a limit,
`RPC_TIMEOUT_SECONDS` (default 10): past it the call raises nameko's `RpcTimeout`, which
an HTTP entrypoint answers with 503 and a Retry-After (onestop/common/http.py) and a
message consumer treats as transient: the message is requeued after a pause, never
dead-lettered (onestop/common/messaging.py). A reply that comes later is dropped by
nameko's reply listener.
"""

import eventlet
from nameko.exceptions import RpcTimeout
from nameko.rpc import RpcProxy

from onestop.common.config import env
from onestop.common.messaging import TopologyReplyListener

RPC_TIMEOUT_SECONDS = 10.0


class TimedRpcProxy(RpcProxy):
    # its reply queue is bound to `nameko-rpc` without declaring the exchange (ADR 0031)
    rpc_reply_listener = TopologyReplyListener()

    def __init__(self, target_service, **options):
        super().__init__(target_service, **options)
        self.timeout = None

    def setup(self):
        super().setup()
        self.timeout = float(env("RPC_TIMEOUT_SECONDS", RPC_TIMEOUT_SECONDS))

    def get_dependency(self, worker_ctx):
        return TimedServiceProxy(
            super().get_dependency(worker_ctx), self.target_service, self.timeout
        )


class TimedServiceProxy:
    def __init__(self, proxy, service_name, timeout):
        self._proxy = proxy
        self._service_name = service_name
        self._timeout = timeout

    def __getattr__(self, method):
        method_proxy = getattr(self._proxy, method)

        def call(*args, **kwargs):
            return call_with_timeout(
                method_proxy, args, kwargs, self._timeout, f"{self._service_name}.{method}"
            )

        return call


def call_with_timeout(method_proxy, args, kwargs, timeout, name):
    """method_proxy(*args, **kwargs), raising RpcTimeout when no reply came in time."""
    reply = method_proxy.call_async(*args, **kwargs)
    timer = eventlet.Timeout(timeout)
    try:
        return reply.result()
    except eventlet.Timeout as exc:
        if exc is not timer:
            raise
        raise RpcTimeout(f"{name} did not answer within {timeout:g} s") from None
    finally:
        timer.cancel()
