"""The suite's scenario marks, known here too: test_scenarios.py imports the scenario modules."""

from __future__ import annotations


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "row(id): a core scenario of a client-methods row")
    config.addinivalue_line("markers", "probe(caveat_id): the probe of a documented caveat")
