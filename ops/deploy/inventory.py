"""The metrics the mesh exports, read from docs/metrics.md (the table is the contract)."""

import re
from dataclasses import dataclass
from pathlib import Path

from onestop.common import config

ROOT = Path(__file__).resolve().parents[2]
METRICS_DOC = ROOT / "docs" / "metrics.md"
NAMEKO_SERVICES = (*config.SERVICES, "departments_nameko")
# series a histogram or counter adds to its family name
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "counter": (), "gauge": ()}
ROW = re.compile(r"^\|\s*([`<>\w]+)\s*\|\s*(counter|gauge|histogram)\s*\|([^|]*)\|([^|]*)\|")


@dataclass(frozen=True)
class Metric:
    name: str
    type: str
    labels: tuple
    source: str

    @property
    def pending(self):
        """True while the issue named in its `from` cell has not made a service export it."""
        return "issue" in self.source

    @property
    def series_names(self):
        return (self.name, *(self.name + suffix for suffix in SUFFIXES[self.type]))


def documented(path=METRICS_DOC):
    """name -> Metric for every row of the table, with `<service>` expanded."""
    metrics = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if not match:
            continue
        name, kind, labels, source = match.groups()
        labels = tuple(label.strip() for label in labels.split(",") if label.strip())
        name = name.replace("`", "")
        names = (
            [name.replace("<service>", s) for s in NAMEKO_SERVICES]
            if "<service>" in name
            else [name]
        )
        for each in names:
            metrics[each] = Metric(each, kind, labels, source.strip())
    return metrics


def series_names(metrics=None):
    """Every series name a query may use: families plus histogram suffixes."""
    metrics = documented() if metrics is None else metrics
    return {series for metric in metrics.values() for series in metric.series_names}


# node-level series of RabbitMQ's own plugin that the machinery dashboard shows
RABBITMQ_PLUGIN_ONLY = ("rabbitmq_connections", "rabbitmq_channels")
