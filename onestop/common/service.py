"""What every service has: health, readiness, /metrics, entrypoint metrics, and the bearer
tokens' Authenticator with the handlers that make a token revocation take effect.

A revocation (`python -m ops.cli token revoke`, docs/adr/0015) is a `token_revoked` event
from `operators`. Each service takes it twice: once per service (a durable queue of its
own: recorded in the service's database even when the service was down when it was sent),
and once per process (a broadcast queue: every instance refuses the token at once, not
only the one that took the durable copy).
"""

from nameko.events import BROADCAST

from onestop.common.auth import REVOCATIONS_SOURCE, TOKEN_REVOKED, Authenticator
from onestop.common.http import http, json_response
from onestop.common.messaging import broadcast_event_handler, event_handler
from onestop.common.metrics import Metrics, exposition
from onestop.contracts.envelope import InvalidMessage


class Probes:
    """Health, readiness and metrics: what a process of the mesh serves (the reference
    departments too); subclasses set `name` and `store`."""

    entrypoint_metrics = Metrics()

    @http("GET", "/health")
    def health(self, request):
        return {"status": "ok", "service": self.name}

    @http("GET", "/ready")
    def ready(self, request):
        try:
            self.store.ping()
        except Exception as exc:  # any failure to reach the store means not ready
            return json_response(
                {"status": "unavailable", "service": self.name, "reason": type(exc).__name__}, 503
            )
        return {"status": "ready", "service": self.name}

    @http("GET", "/metrics")
    def metrics(self, request):
        return exposition()


class ServiceBase(Probes):
    """Mixed into each nameko service class; subclasses set `name` and `store`."""

    auth = Authenticator()

    @event_handler(REVOCATIONS_SOURCE, TOKEN_REVOKED)
    def record_token_revocation(self, payload):
        """The service's durable copy: kept in its own database (and refused at once)."""
        try:
            self.auth.record_revocation(payload, persist=True)
        except ValueError as exc:
            raise InvalidMessage(f"not a token revocation: {exc}") from None

    @broadcast_event_handler(
        REVOCATIONS_SOURCE, TOKEN_REVOKED, handler_type=BROADCAST, reliable_delivery=False
    )
    def apply_token_revocation(self, payload):
        """This process's copy: every instance of the service refuses the token at once."""
        self.auth.record_revocation(payload, persist=False)
