"""What every service has: health, readiness, /metrics, entrypoint metrics."""
from onestop.common.auth import Authenticator
from onestop.common.http import http, json_response
from onestop.common.metrics import Metrics, exposition


class ServiceBase:
    """Mixed into each nameko service class; subclasses set `name` and `store`."""

    entrypoint_metrics = Metrics()
    auth = Authenticator()

    @http("GET", "/health")
    def health(self, request):
        return {"status": "ok", "service": self.name}

    @http("GET", "/ready")
    def ready(self, request):
        try:
            self.store.ping()
        except Exception as exc:  # any failure to reach the store means not ready
            return json_response({"status": "unavailable", "service": self.name,
                                  "reason": type(exc).__name__}, 503)
        return {"status": "ready", "service": self.name}

    @http("GET", "/metrics")
    def metrics(self, request):
        return exposition()
