"""Read one sample from a service's /metrics (0 when the series does not exist yet)."""

import requests
from prometheus_client.parser import text_string_to_metric_families


def metric(url, name, **labels):
    text = requests.get(url + "/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def metric_total(url, name):
    """The sum of every sample of `name` on a service's /metrics, whatever its labels."""
    text = requests.get(url + "/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )
