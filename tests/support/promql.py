"""Metric names in PromQL expressions and Grafana queries (for the dashboard and rule tests)."""

import re

import promql_parser

# Grafana's variables, replaced by values of the right kind before parsing
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
    "${department}": "health",
    "$department": "health",
    "${office}": "x",
    "$office": "x",
}
LABEL_VALUES = re.compile(r"^label_values\((?:(?P<selector>.+),\s*)?(?P<label>\w+)\)$")


def substitute(expr):
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
    return expr


def _children(node):
    for attribute in ("lhs", "rhs", "expr", "vector_selector", "param"):
        child = getattr(node, attribute, None)
        if child is not None and not isinstance(child, (str, int, float)):
            yield child
    for argument in getattr(node, "args", None) or ():
        yield argument


def selectors(node):
    """Every vector selector in a parsed expression: (name or None, {label: (op, value)})."""
    if isinstance(node, promql_parser.VectorSelector):
        matchers = {}
        for matcher in node.matchers.matchers:
            matchers[matcher.name] = (str(matcher.op), matcher.value)
        yield node.name, matchers
        return
    for child in _children(node):
        yield from selectors(child)


def metric_names(expr, known):
    """Names an expression reads; a __name__ regex must match at least one known name."""
    names = set()
    for name, matchers in selectors(promql_parser.parse(substitute(expr))):
        if name:
            names.add(name)
        elif "__name__" in matchers:
            pattern = re.compile(matchers["__name__"][1])
            matched = {k for k in known if pattern.fullmatch(k)}
            names |= matched or {f"<nothing matches {pattern.pattern}>"}
    return names
