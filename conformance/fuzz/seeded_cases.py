"""Seeded values in the examples and coverage phases, which schemathesis' fuzz dictionaries do not
reach.

Those two phases send the spec's examples and values at the edges of each rule. Their ids (the
examples' run id, model name, alias) name nothing on the target, so without this hook every
schema-valid case of an operation that needs something existing is refused (404, or 400 for a
missing alias or a name already taken), and the operation never answers valid data in that phase.
The first schema-valid case of each operation in each phase takes, for every parameter the
settings file binds to a seeded dictionary (see dictionaries.py), the next seeded value; every
other case is left as generated. Without a seeded settings file there is nothing to bind.
"""

from __future__ import annotations

import typing as t
from itertools import count
from urllib.parse import quote

import schemathesis
from schemathesis.config._dictionaries import ParameterDictionaryBinding
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import TestPhase

from conformance.fuzz.names import with_fresh_name

PHASES = (TestPhase.EXAMPLES, TestPhase.COVERAGE)

_seeded: set[tuple[TestPhase, str]] = set()
_turns: dict[str, count] = {}


def bindings(operation: t.Any) -> dict[str, str]:
    """`location.name` -> dictionary, for every parameter of `operation` the settings bind."""
    config = operation.schema.config
    own = config.operations.get_for_operation(operation).parameters
    return {
        key: value.dictionary
        for parameters in (config.parameters, own)
        for key, value in parameters.items()
        if isinstance(value, ParameterDictionaryBinding)
    }


def next_value(config: t.Any, dictionary: str) -> t.Any:
    """The dictionary's entries in turn, so that deleting operations take a different one each
    time."""
    entries = config.dictionaries[dictionary].entries
    turn = next(_turns.setdefault(dictionary, count()))
    return entries[turn % len(entries)].value


def with_seeded_values(case: t.Any) -> t.Any:
    """`case` with every bound parameter it has (a query parameter its operation declares) set to
    a seeded value."""
    config = case.operation.schema.config
    declared = {parameter.name for parameter in case.operation.query}
    for key, dictionary in bindings(case.operation).items():
        location, _, name = key.partition(".")
        if location == "query" and name in declared:
            case.query = {**(case.query or {}), name: next_value(config, dictionary)}
        elif location == "path" and name in (case.path_parameters or {}):
            value = quote(str(next_value(config, dictionary)), safe="")
            case.path_parameters = {**case.path_parameters, name: value}
        elif location == "body" and isinstance(case.body, dict) and name in case.body:
            case.body = {**case.body, name: next_value(config, dictionary)}
    return case


def seed_first(case: t.Any) -> t.Any:
    """Seed `case` if it is the first schema-valid case of its operation in the examples or
    coverage phase."""
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return case
    key = (meta.phase.name, case.operation.label)
    if meta.phase.name not in PHASES or key in _seeded or not bindings(case.operation):
        return case
    _seeded.add(key)
    return with_seeded_values(case)


@schemathesis.hook
def map_case(context, case):
    """The coverage, fuzzing and stateful phases' cases pass here (the examples phase's do not)."""
    return with_fresh_name(seed_first(case))


@schemathesis.hook
def before_add_examples(context, examples):
    """The examples phase's cases, the spec's examples, pass here."""
    examples[:] = [seed_first(case) for case in examples]
