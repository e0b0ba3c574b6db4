"""Query strings: validated per field, and a parameter given twice is refused, not guessed."""

import pytest
from marshmallow import Schema, fields
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from onestop.common.http import BadRequest, load_query


class Query(Schema):
    limit = fields.Integer(load_default=10)
    q = fields.String(load_default=None)


def request(query_string):
    return Request(EnvironBuilder(path="/x", query_string=query_string).get_environ())


def test_a_parameter_given_twice_is_a_400_naming_it():
    with pytest.raises(BadRequest) as refused:
        load_query(Query(), request("limit=2&limit=abc&q=a"))
    assert refused.value.fields == {"limit": ["give this parameter once"]}


def test_values_are_validated_and_empty_ones_may_count_as_absent():
    assert load_query(Query(), request("limit=5&q=x")) == {"limit": 5, "q": "x"}
    assert load_query(Query(), request("q="), drop_empty=True) == {"limit": 10, "q": None}
    assert load_query(Query(), request("q=")) == {"limit": 10, "q": ""}
    with pytest.raises(BadRequest) as refused:
        load_query(Query(), request("limit=many"))
    assert "limit" in refused.value.fields
