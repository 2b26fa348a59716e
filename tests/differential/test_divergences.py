"""The registry of divergences: how an entry narrowed to fields explains a difference."""

from __future__ import annotations

from . import divergences
from .divergences import Divergence, explain

GET = "body.run.data.metrics[key]"


def test_entries_narrowed_to_fields_explain_only_their_fields(monkeypatch):
    entries = [
        Divergence("A", "s", ("get",), ("body",), "a", fields=("run.data.metrics[key].x",)),
        Divergence("B", "s", ("get",), ("body",), "b", fields=("run.data.metrics[key].y",)),
        Divergence("C", "s", ("other",), ("status",), "c"),
    ]
    monkeypatch.setattr(divergences, "DIVERGENCES", entries)
    assert explain("s", "get", "body", [f"{GET}.x.value", f"{GET}.y"]) == {
        "A": {"run.data.metrics[key].x"},
        "B": {"run.data.metrics[key].y"},
    }
    # A field nobody registered, a prefix that is not a whole field, another step or kind.
    assert explain("s", "get", "body", [f"{GET}.x", f"{GET}.z"]) is None
    assert explain("s", "get", "body", [f"{GET}.xx"]) is None
    assert explain("s", "get", "status", [f"{GET}.x"]) is None
    assert explain("s", "other", "status", ["status", "body.error_code"]) == {"C": {"*"}}


def test_registry_is_well_formed():
    kinds = {"message", "content_type", "body", "error_code", "status"}
    for d in divergences.DIVERGENCES:
        assert d.steps and set(d.kinds) <= kinds and len(d.reason) > 40, d.id
        assert not d.fields or d.kinds == ("body",), d.id
