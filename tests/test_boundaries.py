"""tools/boundaries.py: values just inside and just outside each rule, from the spec alone."""

from __future__ import annotations

import re

import yaml

from tools.boundaries import boundaries, uncovered_rules

KEY = r"^(?!/)(?!\.\.)(?!.*//)(?!.*/$)(?!(?:.*/)?\.\.?(?:/|$))[/\w.\- ]+$"


def _document(properties: dict, example: dict) -> dict:
    schema = {"type": "object", "properties": properties, "example": example}
    operation = {
        "operationId": "op",
        "requestBody": {"content": {"application/json": {"schema": schema}}},
    }
    return {"paths": {"/op": {"post": operation}}, "components": {"schemas": {}}}


def _values(doc: dict, field: str) -> dict[str, list]:
    out: dict[str, list] = {"inside": [], "outside": []}
    for b in boundaries(doc):
        if b.field == (field,):
            out["inside" if b.inside else "outside"].append((b.rule.split()[0], b.value))
    return out


def test_lengths_and_bounds_are_probed_one_step_each_side():
    doc = _document(
        {
            "key": {"type": "string", "minLength": 1, "maxLength": 5},
            "n": {"type": "integer", "minimum": 0, "maximum": 10},
        },
        {"key": "k", "n": 1},
    )
    key, n = _values(doc, "key"), _values(doc, "n")
    assert ("maxLength", "aaaaa") in key["inside"] and ("maxLength", "aaaaaa") in key["outside"]
    assert ("minLength", "k") in key["inside"] and ("minLength", "") in key["outside"]
    assert n == {
        "inside": [("minimum", 0), ("maximum", 10)],
        "outside": [("minimum", -1), ("maximum", 11)],
    }
    assert uncovered_rules(doc) == []


def test_pattern_probes_are_classified_by_the_pattern_and_keep_the_other_rules():
    doc = _document({"key": {"type": "string", "pattern": KEY, "maxLength": 3}}, {"key": "k"})
    key = _values(doc, "key")
    patterned = {v: side for side in key for rule, v in key[side] if rule == "pattern"}
    assert patterned["a"] == "inside" and patterned["-a"] == "inside"
    for bad in ("/a", "a/", "..", "a!"):
        assert patterned[bad] == "outside", bad
    # Probes longer than maxLength would say nothing about the pattern.
    assert all(len(v) <= 3 for v in patterned)
    assert all(bool(re.search(KEY, v)) == (side == "inside") for v, side in patterned.items())


def test_a_length_the_pattern_bounds_is_probed():
    pattern = r"^[a-zA-Z0-9][\w\-]{0,255}$"
    doc = _document({"run_id": {"type": "string", "pattern": pattern}}, {"run_id": "r"})
    lengths = {
        (len(v), side) for side, vs in _values(doc, "run_id").items() for _, v in vs if len(v) > 9
    }
    assert lengths == {(256, "inside"), (257, "outside")}


def test_list_sizes_are_probed_with_distinct_keys_and_siblings_emptied():
    doc = _document(
        {
            "params": {"type": "array", "maxItems": 2, "items": {"type": "object"}},
            "tags": {"type": "array", "items": {"type": "object"}},
        },
        {"params": [{"key": "p", "value": "v"}], "tags": [{"key": "t"}]},
    )
    cases = [b for b in boundaries(doc) if b.rule == "maxItems 2"]
    assert [len(b.value) for b in cases] == [2, 3]
    body = cases[1].request({"params": [{"key": "p"}], "tags": [{"key": "t"}]})
    assert [p["key"] for p in body["params"]] == ["p0", "p1", "p2"]
    assert body["tags"] == []


def test_the_real_spec_probes_every_rule_it_states():
    from tests.test_spec import SPEC

    doc = yaml.safe_load(SPEC.read_text())
    assert uncovered_rules(doc) == []
    found = boundaries(doc)
    assert {b.operation_id for b in found} >= {"logBatch", "setRegisteredModelAlias", "searchRuns"}
    assert {b.inside for b in found} == {True, False}
