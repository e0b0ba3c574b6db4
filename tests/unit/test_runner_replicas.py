"""REPLICAS starts more processes of a service (competing consumers), each on its own port."""

import pytest

from ops import runner


def test_replicas_are_more_processes_of_the_service_on_ports_of_their_own(monkeypatch):
    monkeypatch.setenv("REPLICAS", "routing=2,intake=3")
    monkeypatch.delenv("ROUTING_PORT", raising=False)
    monkeypatch.delenv("INTAKE_PORT", raising=False)
    table = runner.processes(["health"])
    assert table["routing-2"][0] == table["routing"][0]
    assert table["routing-2"][1]["ROUTING_PORT"] == "8103"
    assert [table[f"intake-{n}"][1]["INTAKE_PORT"] for n in (2, 3)] == ["8102", "8202"]
    assert "routing-3" not in table and "license-2" not in table


def test_without_replicas_one_process_each(monkeypatch):
    monkeypatch.delenv("REPLICAS", raising=False)
    assert not [name for name in runner.processes(["health"]) if name[-2:] == "-2"]


@pytest.mark.parametrize(
    "spec, says",
    [("gatway=2", "not a service"), ("routing=two", "whole number"), ("routing=0", "1 to 8")],
)
def test_a_malformed_replicas_setting_is_refused_with_the_reason(spec, says):
    with pytest.raises(ValueError, match=says):
        runner.replicas(spec)
