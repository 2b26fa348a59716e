"""Differential scenarios as data, grouped by area."""

from . import artifacts, experiments, protocol, registry, runs, search, ui

ALL = [
    *experiments.SCENARIOS,
    *runs.SCENARIOS,
    *search.SCENARIOS,
    *registry.SCENARIOS,
    *artifacts.SCENARIOS,
    *protocol.SCENARIOS,
    *ui.SCENARIOS,
]

_ids = [s.id for s in ALL]
assert len(_ids) == len(set(_ids)), "scenario ids must be unique"
