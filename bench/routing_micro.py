"""Micro-benchmark: routing's CPU per application, in process, without broker or store.

    .venv/bin/python -m bench.routing_micro [--k 5] [--apps 300] [--repeat 7] [--batched]
                                            [--json] [--profile]

Drives what routing's process does for one application of the bench_k<K> package (K
independent items, all sent at once; bench/catalog_data.py), with the broker and the
store taken out:

- **parse**: the incoming messages decoded as kombu decodes them (JSON), then checked as
  the handlers check them: `load_event` of the `application_submitted` payload,
  `open_envelope` of each of the K `approval_result` envelopes;
- **change**: `WorkflowUpdater.start` (the new workflow, its first tasks) and, per result,
  `WorkflowUpdater._apply_results` (the pure domain step, the boundary's check, the
  compare-and-set write's document, what is remembered, the metrics). Results are applied
  one write each (as when they arrive apart), or with --batched all K in one write (as when
  they arrive together and routing/batching.py joins them);
- **store**: inside change, the write's document BSON-encoded as pymongo encodes it for
  the wire (the store's own work is not routing's and is not counted);
- **publish**: inside change, every outbox entry's body JSON-encoded as kombu encodes it
  (the broker round trip is not counted).

Reported: CPU microseconds per application (time.process_time), the median of --repeat
repetitions of --apps applications each (one warm-up repetition first), split into the
phases above ("domain" is change minus store and publish). Compare numbers from one
machine only. --profile prints the top functions by own time (cProfile) instead.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bson  # noqa: E402
from kombu.serialization import dumps, loads  # noqa: E402

from bench import catalog_data  # noqa: E402
from onestop.client import PERSON_ID  # noqa: E402
from onestop.common.broker_users import department_user  # noqa: E402
from onestop.contracts import messages as contract  # noqa: E402
from onestop.contracts.envelope import make_envelope, open_envelope  # noqa: E402
from onestop.contracts.events import (  # noqa: E402
    APPLICATION_SUBMITTED,
    ApplicationSubmittedSchema,
    load_event,
)
from services.catalog.domain import Catalog, load_data  # noqa: E402
from services.routing.store import RoutingStore  # noqa: E402
from services.routing.workflows import WorkflowUpdater  # noqa: E402

REGION = "430102"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


class Phases:
    """CPU seconds spent inside the store's and the outbox's encoding."""

    def __init__(self):
        self.store = 0.0
        self.publish = 0.0
        self.decided = 0  # application_decided events published (every application's one)


class Matched:
    matched_count = 1


class EncodingCollection:
    """A collection that only encodes what it is given, as pymongo does before sending."""

    def __init__(self, phases):
        self.phases = phases
        self.docs = {}

    def insert_one(self, doc):
        started = time.process_time()
        bson.encode({"insert": "workflows", "documents": [doc]})
        self.phases.store += time.process_time() - started
        self.docs[doc["_id"]] = doc

    def update_one(self, query, change):
        started = time.process_time()
        bson.encode({"update": "workflows", "updates": [{"q": query, "u": change}]})
        self.phases.store += time.process_time() - started
        return Matched()

    def find_one(self, query):  # only after a conflict, which never happens here
        return self.docs.get(query["_id"])


class EncodingDatabase:
    def __init__(self, phases):
        self.workflows = EncodingCollection(phases)


class EncodingOutbox:
    """The worker's outbox, publishing by JSON-encoding each body as kombu does; what it
    published is removed by the document's next write, as routing's Settlements do."""

    def __init__(self, phases):
        self.phases = phases
        self.published = {}  # doc id -> (rev, ids of the entries published at rev)

    def publish(self, doc_id, rev, entries, alone=False, concurrently=False):
        started = time.process_time()
        for entry in entries.values():
            dumps(entry["body"], serializer="json")
        self.phases.publish += time.process_time() - started
        self.phases.decided += sum(
            1 for e in entries.values() if e.get("event_type") == "application_decided"
        )
        if alone:
            self.published[doc_id] = (rev, set(entries))

    def take_published(self, doc_id, rev):
        published_rev, ids = self.published.pop(doc_id, (None, set()))
        return ids if published_rev == rev else set()

    def remove_later(self, doc_id, rev, message_ids):
        pass


class FixedCatalog:
    def __init__(self, catalog):
        self.catalog = catalog

    def get_calendar(self, version):
        return self.catalog.data["calendar"]


class NoLinger:
    """The batching queues without the linger for results still expected."""

    def take_more(self, application_id, count, timeout):
        return []


def bench_plan(k):
    """The plan of one bench_k<k> application, from the benchmark's catalog."""
    with tempfile.TemporaryDirectory() as folder:
        catalog_data.write(Path(folder) / "catalog")
        catalog = Catalog(load_data(Path(folder) / "catalog"))
    return catalog, catalog.plan(catalog_data.scenario_code(k), REGION)


def submitted_payload(application_id, plan):
    """The application_submitted payload intake publishes (onestop/services/intake)."""
    return {
        "application_id": application_id,
        "scenario": plan["scenario"],
        "catalog_version": plan["catalog_version"],
        "applicant": {"kind": "person", "name": "Li Hua", "id_number": PERSON_ID},
        "region": REGION,
        "channel": "online",
        "form": {"note": "A1"},
        "materials": [{"code": catalog_data.MATERIAL, "file_id": uuid.uuid4().hex}],
        "optional_items": [],
        "submitted_at": NOW.isoformat(),
        "submitted_by": {"role": "applicant", "sub": PERSON_ID},
        "counter": None,
    }


def result_envelope(application_id, task):
    """The approval_result a department sends for `task`, as JSON on the wire."""
    payload = {
        "task_id": f"{application_id}:{task['item_code']}",
        "application_id": application_id,
        "department": task["department"],
        "decision": "approved",
        "reason": "",
        "data": {"reference_number": f"R-{uuid.uuid4().hex[:12]}"},
        "decided_by": "officer 1",
    }
    return make_envelope(contract.RESULT, application_id, payload)


def inputs(plan, count):
    """What arrives for `count` applications: (id, submitted bytes, [(result bytes, sender)])."""
    made = []
    for _ in range(count):
        application_id = uuid.uuid4().hex
        submitted = dumps(submitted_payload(application_id, plan), serializer="json")[2]
        results = [
            (
                dumps(result_envelope(application_id, task), serializer="json")[2],
                department_user(task["department"]),
            )
            for task in plan["tasks"]
        ]
        made.append((application_id, submitted, results))
    return made


def run_one(updater, plan, application, batched):
    """One application through routing; returns the parse CPU seconds it took."""
    application_id, submitted_bytes, results = application
    started = time.process_time()
    submitted = load_event(
        ApplicationSubmittedSchema,
        loads(submitted_bytes, "application/json", "utf-8"),
        APPLICATION_SUBMITTED,
    )
    parsed = time.process_time() - started
    # the plan of a pinned catalog version is kept by the catalog client: the same one
    updater.start(submitted, plan)
    envelopes = []
    for body, sender in results:
        started = time.process_time()
        envelope = open_envelope(
            loads(body, "application/json", "utf-8"),
            {contract.RESULT, contract.PAYMENT},
            contract.PAYLOAD_SCHEMAS,
        )
        parsed += time.process_time() - started
        envelopes.append((envelope, sender))
    if batched:
        refused = updater._apply_results(application_id, envelopes)
        assert not refused, refused
    else:
        for item in envelopes:
            refused = updater._apply_results(application_id, [item])
            assert not refused, refused
    return parsed


def make_updater(catalog, phases):
    # a clock that never moves: every write is remembered, as in a burst
    store = RoutingStore(EncodingDatabase(phases), clock=lambda: 0.0)
    updater = WorkflowUpdater(store, EncodingOutbox(phases), FixedCatalog(catalog), lambda: NOW)
    updater.queues = NoLinger()
    return updater


def repetition(catalog, plan, applications, batched):
    """CPU seconds (total, parse, store, publish) for `applications` in a row."""
    phases = Phases()
    updater = make_updater(catalog, phases)
    parse = 0.0
    started = time.process_time()
    for application in applications:
        parse += run_one(updater, plan, application, batched)
    total = time.process_time() - started
    if phases.decided != len(applications):  # each application decided, once
        raise AssertionError(f"{phases.decided} decisions for {len(applications)} applications")
    return total, parse, phases.store, phases.publish


def measure(k, apps, repeat, batched):
    catalog, plan = bench_plan(k)
    applications = inputs(plan, apps)
    repetition(catalog, plan, applications, batched)  # warm-up: imports, caches, calendars
    runs = []
    for _ in range(repeat):
        total, parse, store, publish = repetition(catalog, plan, inputs(plan, apps), batched)
        runs.append(
            {
                "total": total / apps * 1e6,
                "parse": parse / apps * 1e6,
                "store": store / apps * 1e6,
                "publish": publish / apps * 1e6,
                "domain": (total - parse - store - publish) / apps * 1e6,
            }
        )
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    return {
        "k": k,
        "apps": apps,
        "repeat": repeat,
        "batched": batched,
        "median_us": {key: round(value, 1) for key, value in median.items()},
        "min_total_us": round(min(run["total"] for run in runs), 1),
        "max_total_us": round(max(run["total"] for run in runs), 1),
    }


def profile(k, apps, batched, top=30):
    import cProfile
    import pstats

    catalog, plan = bench_plan(k)
    repetition(catalog, plan, inputs(plan, apps), batched)
    applications = inputs(plan, apps)
    profiler = cProfile.Profile()
    profiler.enable()
    repetition(catalog, plan, applications, batched)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, default=5, choices=catalog_data.KS)
    parser.add_argument("--apps", type=int, default=300, help="applications per repetition")
    parser.add_argument("--repeat", type=int, default=7, help="repetitions (the median)")
    parser.add_argument("--batched", action="store_true", help="all K results in one write")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile, top own time")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.k, args.apps, args.batched)
        return
    found = measure(args.k, args.apps, args.repeat, args.batched)
    if args.json:
        print(json.dumps(found))
        return
    median = found["median_us"]
    print(
        f"routing CPU per application, K={args.k}, "
        f"{'results in one write' if args.batched else 'one write per result'}, "
        f"median of {args.repeat} x {args.apps} applications:"
    )
    for key in ("total", "parse", "domain", "store", "publish"):
        print(f"  {key:8s} {median[key]:9.1f} µs")
    print(f"  (total min {found['min_total_us']} µs, max {found['max_total_us']} µs)")


if __name__ == "__main__":
    main()
