"""The JSON Schema subset request bodies are checked with (the same dicts /openapi.json shows)."""

from __future__ import annotations

import pytest

from trove_server.errors import Unprocessable
from trove_server.validation import check

SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 5},
        "count": {"type": ["integer", "null"], "minimum": 1, "maximum": 3},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
    },
}


def test_a_valid_body_passes_unchanged():
    body = {"name": "x", "count": 2, "tags": ["a"], "extra": True}
    assert check(body, SCHEMA) is body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name is required"),
        ({"name": 1}, "name must be a string"),
        ({"name": ""}, "name must not be empty"),
        ({"name": "toolong"}, "name is 7 characters; the limit is 5"),
        ({"name": "x", "count": True}, "count must be an integer or null"),
        ({"name": "x", "count": 9}, "count must be at most 3"),
        ({"name": "x", "tags": ["c"]}, 'tags[0] must be one of "a", "b"'),
        ({"name": "\ud800"}, "name is not valid Unicode (unpaired surrogate)"),
        ([], "body must be an object"),
    ],
)
def test_each_problem_is_named(body, message):
    with pytest.raises(Unprocessable) as info:
        check(body, SCHEMA)
    assert info.value.detail == message


def test_a_pattern_ending_in_dollar_refuses_a_trailing_newline():
    """JSON Schema's ``$`` is the end of the text (Python's also matches before a final
    newline)."""
    schema = {"type": "string", "pattern": "^[a-z]+$"}
    assert check("alice", schema) == "alice"
    with pytest.raises(Unprocessable):
        check("alice\n", schema)
