"""license's business metrics (docs/metrics.md)."""

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

ISSUED = Counter("license_licenses_issued_total", "E-licences issued", ["license_type"])
REVOKED = Counter("license_licenses_revoked_total", "E-licences revoked", ["license_type"])
EXPIRED = Counter(
    "license_licenses_expired_total", "E-licences found expired by the sweep", ["license_type"]
)
VERIFIED = Counter("license_verifications_total", "Verify requests by result", ["result"])
NOTICES_SIGNED = Counter(
    "license_notices_signed_total", "Formal notices signed and stored, by kind", ["kind"]
)
NOTICES_VERIFIED = Counter(
    "license_notice_verifications_total", "Notice verify requests by result", ["result"]
)
REUSED = Counter(
    "license_reuse_checks_total",
    "Licences asked for to fill a material (once-only), by outcome",
    ["license_type", "outcome"],
)


def store_gauges(store, now):
    gauge = GaugeMetricFamily(
        "license_licenses",
        "Issued e-licences by type and status now",
        labels=["license_type", "status"],
    )
    for (license_type, status), count in sorted(store.count_by_type_and_status(now).items()):
        gauge.add_metric([license_type, status], count)
    yield gauge
