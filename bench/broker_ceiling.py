"""The raw broker ceiling: a pika publisher and a pika consumer, nothing else.

    .venv/bin/python -m bench.broker_ceiling AMQP_URI [--messages 20000] [--windows 1,16,128,1000]

Persistent messages (delivery_mode 2, 1.5 kB, the size of a mesh task message) to a durable
queue, published with publisher confirms by one publisher process that keeps up to W
publishes in flight (W = the window: publish, and publish again until W are unconfirmed,
each confirm frees a place; W=1 is a publisher that waits for every confirm before the
next publish). One consumer process acknowledges every message by itself (prefetch 1000).
Messages per second = messages consumed / time from the first publish to the last
acknowledgement: end to end, not just publishing.

The broker's own CPU (RabbitMQ's beam.smp, from /proc) over each run gives the broker's
CPU milliseconds per message; run it with nothing else on the broker (bench/run.py runs it
before it starts the mesh). The *broker bound* is the best window's rate divided by the
messages an application needs (bench/report.py).
"""

import argparse
import json
import multiprocessing
import sys
import threading
import time
import uuid

import pika

from bench import procs

BODY_BYTES = 1500
WINDOWS = (1, 16, 128, 1000)


def _publisher(uri, queue, count, window, start_event, results):
    """Publish `count` messages with at most `window` unconfirmed (SelectConnection)."""
    body = b"x" * BODY_BYTES
    properties = pika.BasicProperties(delivery_mode=2, content_type="application/json")
    state = {"sent": 0, "confirmed": 0, "nacked": 0, "pending": set(), "low": 1}

    def fill(channel):
        while state["sent"] < count and len(state["pending"]) < window:
            channel.basic_publish("", queue, body, properties=properties)
            state["sent"] += 1
            state["pending"].add(state["sent"])

    def on_confirm(frame):
        method = frame.method
        nack = isinstance(method, pika.spec.Basic.Nack)
        if method.multiple:  # every tag up to this one (tags are sequential)
            tags = range(state["low"], method.delivery_tag + 1)
            state["low"] = max(state["low"], method.delivery_tag + 1)
        else:
            tags = (method.delivery_tag,)
        for tag in tags:
            if tag in state["pending"]:
                state["pending"].discard(tag)
                state["confirmed"] += 1
                state["nacked"] += nack
        if state["confirmed"] >= count:
            state["finished"] = time.time()
            connection.close()
            return
        fill(channel_ref["channel"])

    channel_ref = {}

    def on_channel(channel):
        channel_ref["channel"] = channel
        channel.confirm_delivery(on_confirm, callback=lambda _frame: started(channel))

    def started(channel):
        start_event.wait()
        state["started"] = time.time()
        fill(channel)

    connection = pika.SelectConnection(
        pika.URLParameters(uri),
        on_open_callback=lambda conn: conn.channel(on_open_callback=on_channel),
        on_open_error_callback=lambda conn, _exc: conn.ioloop.stop(),
        on_close_callback=lambda conn, _reason: conn.ioloop.stop(),
    )
    connection.ioloop.start()
    results.put(
        {
            "published": state["sent"],
            "confirmed": state["confirmed"],
            "nacked": state["nacked"],
            "published_seconds": state.get("finished", time.time()) - state.get("started", 0),
        }
    )


def _consumer(uri, queue, total, results):
    """Consume and acknowledge each message by itself (SelectConnection, prefetch 1000)."""
    state = {"seen": 0, "first": None}

    def on_message(channel, method, _properties, _body):
        if state["first"] is None:
            state["first"] = time.time()
        channel.basic_ack(method.delivery_tag)
        state["seen"] += 1
        if state["seen"] >= total:
            state["last"] = time.time()
            connection.close()

    def on_channel(channel):
        channel.basic_qos(
            prefetch_count=1000,
            callback=lambda _frame: channel.basic_consume(queue, on_message),
        )

    connection = pika.SelectConnection(
        pika.URLParameters(uri),
        on_open_callback=lambda conn: conn.channel(on_open_callback=on_channel),
        on_open_error_callback=lambda conn, _exc: conn.ioloop.stop(),
        on_close_callback=lambda conn, _reason: conn.ioloop.stop(),
    )
    timer = threading.Timer(
        600, lambda: connection.ioloop.add_callback_threadsafe(connection.close)
    )
    timer.daemon = True
    timer.start()
    connection.ioloop.start()
    timer.cancel()
    results.put(
        {
            "consumed": state["seen"],
            "first_consumed": state["first"],
            "last_consumed": state.get("last", time.time()),
        }
    )


def measure(uri, messages=20000, window=1000, progress=True, broker_pid=None):
    """One run: `messages` through the broker, published with at most `window` unconfirmed
    confirms, consumed and acknowledged; with the broker's CPU over the run."""
    queue = f"onestop_bench.ceiling.{uuid.uuid4().hex[:8]}"
    setup = pika.BlockingConnection(pika.URLParameters(uri))
    setup.channel().queue_declare(queue, durable=True)
    setup.close()
    context = multiprocessing.get_context("spawn")
    start_event = context.Event()
    consumed, published = context.Queue(), context.Queue()
    # daemons: a failed run never leaves them behind (nor waits for them at exit)
    consumer = context.Process(target=_consumer, args=(uri, queue, messages, consumed), daemon=True)
    publisher = context.Process(
        target=_publisher,
        args=(uri, queue, messages, window, start_event, published),
        daemon=True,
    )
    consumer.start()
    publisher.start()
    time.sleep(1.0)  # connections up before the clock starts
    if broker_pid is None:
        broker_pid = broker_pids()[0] if broker_pids() else None
    broker_before = procs.cpu_seconds(broker_pid) if broker_pid else None
    machine_before = procs.machine_cpu_seconds()
    started = time.time()
    start_event.set()
    deadline = time.monotonic() + 300
    while publisher.is_alive() and time.monotonic() < deadline:
        if progress:
            sys.stdout.write(
                f"\r    broker ceiling, window {window}: {messages} messages, "
                f"{time.time() - started:5.1f}s   "
            )
            sys.stdout.flush()
        time.sleep(0.2)
    sent = published.get(timeout=60)
    outcome = consumed.get(timeout=120)
    broker_cpu = (
        procs.cpu_seconds(broker_pid) - broker_before if broker_before is not None else None
    )
    machine_cpu = procs.machine_cpu_seconds() - machine_before
    consumer.join(10)
    publisher.join(10)
    cleanup = pika.BlockingConnection(pika.URLParameters(uri))
    cleanup.channel().queue_delete(queue)
    cleanup.close()
    elapsed = outcome["last_consumed"] - started
    if progress:
        sys.stdout.write("\n")
    return {
        "window": window,
        "messages": outcome["consumed"],
        "nacked": sent.get("nacked"),
        "body_bytes": BODY_BYTES,
        "seconds": round(elapsed, 2),
        "published_per_second": round(messages / max(sent.get("published_seconds", 0), 1e-6), 1),
        "messages_per_second": round(outcome["consumed"] / elapsed, 1),
        "broker_cpu_ms_per_message": round(1000 * broker_cpu / max(1, outcome["consumed"]), 4)
        if broker_cpu is not None
        else None,
        "broker_cpu_share": round(broker_cpu / elapsed, 2) if broker_cpu is not None else None,
        "machine_cpu_share": round(machine_cpu / elapsed, 2),
    }


def broker_pids():
    return procs.pids_named("beam.smp")


def sweep(uri, messages=20000, windows=WINDOWS, runs=1, progress=True):
    """Every window `runs` times; the median rate per window and the best window."""
    found = {}
    for window in windows:
        # a window of 1 awaits every confirm: a tenth of the messages tells as much
        count = max(500, messages // 10) if window == 1 else messages
        found[window] = [measure(uri, count, window, progress) for _ in range(runs)]
    per_window = []
    for window, window_runs in found.items():
        ordered = sorted(window_runs, key=lambda r: r["messages_per_second"])
        median = ordered[len(ordered) // 2]
        per_window.append(
            {
                "window": window,
                "messages_per_second": median["messages_per_second"],
                "broker_cpu_ms_per_message": median["broker_cpu_ms_per_message"],
                "broker_cpu_share": median["broker_cpu_share"],
                "runs": window_runs,
            }
        )
    best = max(per_window, key=lambda w: w["messages_per_second"])
    return {
        "windows": per_window,
        "best_window": best["window"],
        "median_messages_per_second": best["messages_per_second"],
        "broker_cpu_ms_per_message": best["broker_cpu_ms_per_message"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("amqp_uri")
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--windows", default=",".join(str(w) for w in WINDOWS))
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    windows = [int(w) for w in args.windows.split(",")]
    found = sweep(args.amqp_uri, args.messages, windows, args.runs, progress=sys.stdout.isatty())
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
