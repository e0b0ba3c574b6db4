"""Keyboard-only journeys: move the focus as a person without a mouse does."""


def tab_to(page, locator, limit=80):
    """Press Tab until `locator` has the focus (keyboard only, as a person would)."""
    target = locator.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(el) => document.activeElement === el", target):
            return
    raise AssertionError(f"Tab never reached {locator}")
