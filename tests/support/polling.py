"""The one way the tests wait for an eventually consistent mesh."""

import time


def wait_for(check, what="the condition", timeout=30, interval=0.1):
    """Call `check()` until it returns something truthy, and return that; after `timeout`
    seconds, fail the test naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
