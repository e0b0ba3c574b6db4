"""The kept catalog answers (onestop/common/catalog_client.py): pinned versions for good, the
current version for a while, every caller with its own copy."""

from onestop.common.catalog_client import Answers


class Catalog:
    """Stands in for the RPC proxy: counts the questions that reached it."""

    def __init__(self):
        self.asked = []
        self.current = 1

    def ask(self, method):
        def call(*args, **kwargs):
            self.asked.append((method, args, kwargs))
            return {
                "method": method,
                "args": list(args),
                "version": self.current,
                "tasks": [{"item": "A"}],
            }

        return call


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_pinned_version_is_asked_once_and_kept():
    catalog, answers = Catalog(), Answers(ttl_seconds=2, clock=Clock())
    first = answers.get("plan", ("births", "430100", ["X"], 3), {}, catalog.ask("plan"))
    second = answers.get("plan", ("births", "430100", ["X"], 3), {}, catalog.ask("plan"))
    assert first == second
    assert len(catalog.asked) == 1


def test_the_version_may_be_given_by_keyword():
    catalog, answers = Catalog(), Answers(ttl_seconds=0, clock=Clock())
    for _ in range(3):
        answers.get("get_region", ("430100",), {"version": 2}, catalog.ask("get_region"))
    assert len(catalog.asked) == 1


def test_different_arguments_are_different_questions():
    catalog, answers = Catalog(), Answers(ttl_seconds=2, clock=Clock())
    answers.get("plan", ("births", "430100", [], 3), {}, catalog.ask("plan"))
    answers.get("plan", ("births", "430200", [], 3), {}, catalog.ask("plan"))
    answers.get("plan", ("births", "430100", [], 4), {}, catalog.ask("plan"))
    answers.get("get_region", ("430100", 3), {}, catalog.ask("get_region"))
    assert len(catalog.asked) == 4


def test_the_current_version_is_asked_again_after_the_keeping_time():
    clock = Clock()
    catalog, answers = Catalog(), Answers(ttl_seconds=2, clock=clock)
    assert answers.get("get_scenario", ("births",), {}, catalog.ask("get_scenario"))["version"] == 1
    catalog.current = 2  # the catalog service loads a new version
    clock.now += 1.5
    assert answers.get("get_scenario", ("births",), {}, catalog.ask("get_scenario"))["version"] == 1
    clock.now += 1.0
    assert answers.get("get_scenario", ("births",), {}, catalog.ask("get_scenario"))["version"] == 2
    assert len(catalog.asked) == 2


def test_keeping_time_zero_asks_about_the_current_version_every_time():
    catalog, answers = Catalog(), Answers(ttl_seconds=0, clock=Clock())
    for _ in range(3):
        answers.get("get_scenario", ("births", None), {}, catalog.ask("get_scenario"))
    assert len(catalog.asked) == 3


def test_a_caller_changing_its_answer_does_not_change_the_next_callers():
    catalog, answers = Catalog(), Answers(ttl_seconds=2, clock=Clock())
    first = answers.get("plan", ("births", "430100", [], 3), {}, catalog.ask("plan"))
    first["tasks"].append({"item": "B"})
    first["tasks"][0]["item"] = "changed"
    again = answers.get("plan", ("births", "430100", [], 3), {}, catalog.ask("plan"))
    assert again["tasks"] == [{"item": "A"}]


def test_the_table_is_bounded_and_drops_the_least_recently_used():
    catalog, answers = Catalog(), Answers(ttl_seconds=2, max_entries=2, clock=Clock())
    ask = catalog.ask("get_region")
    answers.get("get_region", ("a", 1), {}, ask)
    answers.get("get_region", ("b", 1), {}, ask)
    answers.get("get_region", ("a", 1), {}, ask)  # a is now the most recent
    answers.get("get_region", ("c", 1), {}, ask)  # drops b
    answers.get("get_region", ("a", 1), {}, ask)
    answers.get("get_region", ("b", 1), {}, ask)
    assert [args[0] for _, args, _ in catalog.asked] == ["a", "b", "c", "b"]


def test_methods_outside_the_table_are_always_asked():
    catalog, answers = Catalog(), Answers(ttl_seconds=2, clock=Clock())
    for _ in range(2):
        answers.get("reload", (1,), {}, catalog.ask("reload"))
    assert len(catalog.asked) == 2
