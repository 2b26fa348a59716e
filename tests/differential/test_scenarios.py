"""Replay every scenario against the oracle and the subject; unexplained differences fail."""

from __future__ import annotations

import uuid

import pytest
import requests

from . import divergences
from .conftest import SUBJECT
from .harness import compare, mask, replay
from .scenarios import ALL

pytestmark = pytest.mark.oracle


@pytest.mark.parametrize(
    "scenario",
    [pytest.param(s, id=s.id, marks=pytest.mark.scenario(s.id)) for s in ALL],
)
def test_scenario(scenario, oracle, subject, diff_report):
    token = uuid.uuid4().hex[:10]
    with requests.Session() as s1, requests.Session() as s2:
        expected = mask(replay(oracle.url, scenario, token, s1))
        actual = mask(replay(subject.url, scenario, token, s2))
    diffs = compare(scenario.id, expected, actual)

    unexplained, accepted = [], set()
    for d in diffs:
        div = divergences.find(d.scenario, d.step, d.kind) if SUBJECT != "oracle" else None
        diff_report(
            {
                "backend": subject.backend,
                "scenario": d.scenario,
                "step": d.step,
                "kind": d.kind,
                "divergence": div.id if div else None,
                "request": d.request,
                "oracle": {k: d.expected[k] for k in ("status", "content_type", "body")},
                "subject": {k: d.actual[k] for k in ("status", "content_type", "body")},
            }
        )
        if div:
            accepted.add(div.id)
        else:
            unexplained.append(d)

    stale = []
    if SUBJECT != "oracle":
        steps = {r["step"] for r in expected}
        for div in divergences.DIVERGENCES:
            mine = div.scenario == scenario.id and div.id not in accepted
            if mine and ("*" in div.steps or steps & set(div.steps)):
                stale.append(div.id)

    problems = [d.render() for d in unexplained]
    if stale:
        problems.append(f"registered divergences that no longer happen (remove them): {stale}")
    if problems:
        pytest.fail(
            f"{len(unexplained)} of {len(expected)} steps differ from mlflow server 2.7.1 "
            f"({subject.backend}):\n\n" + "\n\n".join(problems),
            pytrace=False,
        )
