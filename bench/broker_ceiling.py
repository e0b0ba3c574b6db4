"""The raw broker ceiling: pika publishers and a pika consumer, nothing else.

    .venv/bin/python -m bench.broker_ceiling AMQP_URI [--messages 20000] [--publishers 2]

Persistent messages (delivery_mode 2) to a durable queue, publisher confirms on every
publish (a BlockingConnection waits for each confirm, as the mesh's publishers do), one
consumer acknowledging each message (prefetch 100). Publishers and the consumer are
separate processes. Messages per second = messages consumed / time from the first
publish to the last acknowledgement. The body is the size of a typical mesh task message.
"""

import argparse
import json
import multiprocessing
import sys
import time
import uuid

import pika

BODY_BYTES = 1500


def _publisher(uri, queue, count, start_event):
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    channel = connection.channel()
    channel.confirm_delivery()
    body = b"x" * BODY_BYTES
    properties = pika.BasicProperties(delivery_mode=2, content_type="application/json")
    start_event.wait()
    for _ in range(count):
        channel.basic_publish("", queue, body, properties=properties, mandatory=True)
    connection.close()


def _consumer(uri, queue, total, results):
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=100)
    seen = 0
    first = None
    for method, _properties, _body in channel.consume(queue, inactivity_timeout=60):
        if method is None:
            break
        if first is None:
            first = time.time()
        channel.basic_ack(method.delivery_tag)
        seen += 1
        if seen >= total:
            break
    results.put({"consumed": seen, "first_consumed": first, "last_consumed": time.time()})
    channel.cancel()
    connection.close()


def measure(uri, messages=20000, publishers=2, progress=True):
    """Messages per second through the broker, published with confirms and consumed."""
    queue = f"onestop_bench.ceiling.{uuid.uuid4().hex[:8]}"
    setup = pika.BlockingConnection(pika.URLParameters(uri))
    setup.channel().queue_declare(queue, durable=True)
    setup.close()
    context = multiprocessing.get_context("spawn")
    start_event = context.Event()
    results = context.Queue()
    per_publisher = messages // publishers
    total = per_publisher * publishers
    consumer = context.Process(target=_consumer, args=(uri, queue, total, results))
    consumer.start()
    workers = [
        context.Process(target=_publisher, args=(uri, queue, per_publisher, start_event))
        for _ in range(publishers)
    ]
    for worker in workers:
        worker.start()
    time.sleep(1.0)  # connections up before the clock starts
    started = time.time()
    start_event.set()
    while any(w.is_alive() for w in workers):
        if progress:
            sys.stdout.write(
                f"\r    broker ceiling: publishing {total} messages, "
                f"{time.time() - started:5.1f}s   "
            )
            sys.stdout.flush()
        time.sleep(0.5)
    published_seconds = time.time() - started
    outcome = results.get(timeout=120)
    consumer.join(10)
    cleanup = pika.BlockingConnection(pika.URLParameters(uri))
    cleanup.channel().queue_delete(queue)
    cleanup.close()
    elapsed = outcome["last_consumed"] - started
    if progress:
        sys.stdout.write("\n")
    return {
        "messages": outcome["consumed"],
        "publishers": publishers,
        "body_bytes": BODY_BYTES,
        "seconds": round(elapsed, 2),
        "published_per_second": round(total / published_seconds, 1),
        "messages_per_second": round(outcome["consumed"] / elapsed, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("amqp_uri")
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--publishers", type=int, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.amqp_uri, args.messages, args.publishers), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
