"""What schemathesis' stateful phase reached: read from its NDJSON event stream.

The stateful phase chains requests along the spec's OpenAPI links (create an experiment, then a
run in it, then log to that run ...). A link is covered when a scenario followed it with the
values it carries; a linked operation (one that some link leads to) is reached when at least one
of the links into it was covered. schemathesis prints only how many links it covered; which ones,
and so which linked operations were never reached, is in the `ScenarioFinished` events of its
NDJSON report (`--report ndjson`), one JSON object a line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def links(spec: Path) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """`METHOD /path` of each operationId of `spec`, and the (from, to) operationIds of each of
    its response links."""
    with open(spec, encoding="utf-8") as f:
        document = yaml.safe_load(f)
    labels: dict[str, str] = {}
    pairs: set[tuple[str, str]] = set()
    for path, item in document.get("paths", {}).items():
        for method in (m for m in item if m in HTTP_METHODS):
            operation = item[method]
            source = operation.get("operationId", "")
            labels[source] = f"{method.upper()} {path}"
            for response in operation.get("responses", {}).values():
                for link in (response.get("links") or {}).values():
                    pairs.add((source, link.get("operationId", "")))
    return labels, pairs


def linked_operations(spec: Path) -> frozenset[str]:
    """`METHOD /path` of every operation that some response link of `spec` leads to."""
    labels, pairs = links(spec)
    return frozenset(labels[to] for _, to in pairs if to in labels)


@dataclass(frozen=True)
class StatefulReach:
    """Links followed and linked operations reached by one run's stateful phase."""

    links_total: int
    links_covered: frozenset[str]
    linked: frozenset[str]
    reached: frozenset[str]

    @property
    def unreached(self) -> tuple[str, ...]:
        return tuple(sorted(self.linked - self.reached))

    def summary(self) -> str:
        return (
            f"stateful: {len(self.links_covered)}/{self.links_total} links covered, "
            f"{len(self.linked & self.reached)}/{len(self.linked)} linked operations reached"
        )


def stateful_reach(ndjson: Path, spec: Path) -> StatefulReach:
    """Read the stateful phase's scenarios from a schemathesis NDJSON report."""
    total = 0
    covered: set[str] = set()
    with open(ndjson, encoding="utf-8") as f:
        for line in f:
            # Most lines are the other phases' events: skip them before parsing.
            if '"stateful"' not in line:
                continue
            event = json.loads(line)
            if "PhaseStarted" in event:
                payload = event["PhaseStarted"].get("payload") or {}
                total = max(total, int(payload.get("transitions_selected", 0)))
            finished = event.get("ScenarioFinished")
            if finished and finished.get("phase") == "stateful":
                for case in finished["recorder"].get("cases", {}).values():
                    transition = case.get("transition")
                    if transition and case.get("is_transition_applied"):
                        covered.add(transition["id"])
    # A transition's id is "SOURCE -> [STATUS] LINK -> TARGET", each end a `METHOD /path`.
    reached = frozenset(link.rsplit(" -> ", 1)[-1] for link in covered)
    return StatefulReach(total, frozenset(covered), linked_operations(spec), reached)
