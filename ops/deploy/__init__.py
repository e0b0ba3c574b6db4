"""Deployment files generated from, or checked against, the one list of services.

`python -m ops.deploy` writes docker-compose.yml, the Prometheus scrape
configurations, the RabbitMQ definitions and the Grafana dashboards;
`python -m ops.deploy --check` fails when a committed file differs from
what the code would write (run by the tests), so they cannot drift.
"""
