"""intake's business metrics (docs/metrics.md)."""

from prometheus_client import Counter, Histogram

SUBMITTED = Counter(
    "intake_applications_submitted_total", "Applications accepted", ["scenario", "channel"]
)
REJECTED_INPUT = Counter(
    "intake_applications_invalid_total", "Applications refused for bad input", ["scenario"]
)
UPLOADS = Counter("intake_uploads_total", "Uploads accepted", ["content_type"])
UPLOAD_BYTES = Histogram(
    "intake_upload_size_bytes", "Size of accepted uploads", buckets=(1e3, 1e4, 1e5, 1e6, 5e6, 1e7)
)


def upload_accepted(content_type, size):
    UPLOADS.labels(content_type).inc()
    UPLOAD_BYTES.observe(size)
