"""intake: applications as submitted, uploads, idempotency keys, the applicant-facing status view."""
