"""Replay every scenario against the oracle and the subject; unexplained differences fail."""

from __future__ import annotations

import uuid

import pytest
import requests

from . import divergences
from .conftest import SUBJECT
from .harness import compare, mask, paths_differing, replay
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

    unexplained, accepted = [], {}  # divergence id -> the fields it explained
    for d in diffs:
        paths = [path for path, _, _ in paths_differing(d.expected, d.actual)]
        used = (
            divergences.explain(d.scenario, d.step, d.kind, paths) if SUBJECT != "oracle" else None
        )
        diff_report(
            {
                "backend": subject.backend,
                "scenario": d.scenario,
                "step": d.step,
                "kind": d.kind,
                "divergence": ",".join(used) if used else None,
                "request": d.request,
                "oracle": {k: d.expected[k] for k in ("status", "content_type", "body")},
                "subject": {k: d.actual[k] for k in ("status", "content_type", "body")},
            }
        )
        if used:
            for div_id, fields in used.items():
                accepted.setdefault(div_id, set()).update(fields)
        else:
            unexplained.append(d)

    stale = []
    if SUBJECT != "oracle":
        steps = {r["step"] for r in expected}
        for div in divergences.DIVERGENCES:
            mine = div.scenario == scenario.id and ("*" in div.steps or steps & set(div.steps))
            if not mine:
                continue
            if div.id not in accepted:
                stale.append(div.id)
            elif div.fields and set(div.fields) - accepted[div.id]:
                gone = sorted(set(div.fields) - accepted[div.id])
                stale.append(f"{div.id} (fields that no longer differ: {gone})")

    problems = [d.render() for d in unexplained]
    if stale:
        problems.append(f"registered divergences that no longer happen (remove them): {stale}")
    if problems:
        pytest.fail(
            f"{len(unexplained)} of {len(expected)} steps differ from mlflow server 2.7.1 "
            f"({subject.backend}):\n\n" + "\n\n".join(problems),
            pytrace=False,
        )
