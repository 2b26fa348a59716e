"""The verdict rule, written once in conformance/verdict.py."""

from __future__ import annotations

import pytest

from conformance.verdict import (
    NO,
    NOT_APPLICABLE,
    NOT_RUN,
    PARTIAL,
    YES,
    YES_WITH_CAVEAT,
    verdict,
)


@pytest.mark.parametrize(
    ("core", "probes", "expected"),
    [
        ([True, True], [True, True], YES),
        ([True], [], YES),  # a row without caveats: its core decides
        ([True, True], [True, False], YES_WITH_CAVEAT),
        ([True], [False, False], YES_WITH_CAVEAT),
        ([True, False], [True], PARTIAL),
        ([False, True], [False], PARTIAL),  # probes do not lift a partial row
        ([False, False], [True, True], NO),  # nor a failing one
        ([False], [], NO),
        ([], [True], NOT_RUN),
        ([], [], NOT_RUN),
        # None: the client version has no such method; it counts neither way.
        ([None, None], [False], NOT_APPLICABLE),
        ([True, None], [None], YES),
        ([True, None], [False, None], YES_WITH_CAVEAT),
        ([False, None], [], NO),
    ],
)
def test_verdict(core, probes, expected):
    assert verdict(core, probes) == expected
