"""Deliberate differences between the reference server and mlflow server 2.7.1.

The single registry of them. A difference the differential tests find is accepted only when an
entry here names its scenario and step, covers its kind, and says why. Everything else fails.
An entry whose difference no longer happens fails too (remove it).

Kinds, from narrowest to widest: "message" (error text only: same status and error_code),
"content_type", "body" (same status, different body), "error_code", "status".
Real bugs do not belong here: they stay failing until fixed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Divergence:
    id: str
    scenario: str
    steps: tuple[str, ...]  # step names; ("*",) for every step of the scenario
    kinds: tuple[str, ...]  # which kinds of difference it allows
    reason: str

    def covers(self, scenario: str, step: str, kind: str) -> bool:
        return (
            scenario == self.scenario
            and ("*" in self.steps or step in self.steps)
            and kind in self.kinds
        )


DIVERGENCES: list[Divergence] = [
    Divergence(
        id="D1-unknown-path-json-404",
        scenario="protocol-unknown-paths",
        steps=(
            "unknown-api-path",
            "unknown-api-path-post",
            "unknown-ajax-path",
            "unknown-api-version",
        ),
        kinds=("content_type", "body"),
        reason=(
            "mlflow server answers an unknown path with Flask's HTML 404 page; the reference "
            "server answers the same status with MLflow's JSON error body "
            '{"error_code": "ENDPOINT_NOT_FOUND"}, which the MLflow client can parse (it raises '
            "on the HTML page). Status codes match."
        ),
    ),
    Divergence(
        id="D2-wrong-method-json-405",
        scenario="protocol-wrong-method",
        steps=("*",),
        kinds=("content_type", "body"),
        reason=(
            "mlflow server answers a known path with the wrong HTTP method with Flask's HTML 405 "
            "page; the reference server answers 405 with a JSON error body. Status matches."
        ),
    ),
    Divergence(
        id="D3-no-sqlalchemy-text-in-messages",
        scenario="experiments-lifecycle",
        steps=("create-duplicate", "create-name-of-deleted"),
        kinds=("message",),
        reason=(
            "mlflow's RESOURCE_ALREADY_EXISTS message appends the SQLAlchemy exception (autoflush "
            "note, the SQL statement, its parameters, a sqlalche.me link), which depends on the "
            "database driver. The reference keeps the stable first sentence "
            "'Experiment(name=...) already exists.'; status and error_code match."
        ),
    ),
    Divergence(
        id="D4-rename-to-taken-name",
        scenario="experiments-lifecycle",
        steps=("rename-to-taken",),
        kinds=("error_code", "message"),
        reason=(
            "Renaming an experiment to a taken name surfaces an unhandled IntegrityError in "
            "mlflow: BAD_REQUEST with the SQL statement as message. The reference answers the "
            "same status (400) with RESOURCE_ALREADY_EXISTS, as experiments/create does."
        ),
    ),
    Divergence(
        id="D5-json-array-body-is-a-client-error",
        scenario="protocol-body-encodings",
        steps=("json-array-body",),
        kinds=("status",),
        reason=(
            "A JSON body that is not an object crashes mlflow (500, HTML page). The MLflow client "
            "retries 5xx for about a minute and then loses the body, so a client mistake must not "
            "be a 5xx: the reference answers 400 INVALID_PARAMETER_VALUE."
        ),
    ),
    Divergence(
        id="D6-bad-comparator-is-a-client-error",
        scenario="search-runs-filters",
        steps=("bad-status-gt",),
        kinds=("status",),
        reason=(
            "A numeric comparator on a string attribute makes mlflow raise INTERNAL_ERROR (500) "
            "with an unformatted message ('{comparator}'). It is a client mistake: the reference "
            "answers 400 INVALID_PARAMETER_VALUE with the comparator filled in."
        ),
    ),
]


def find(scenario: str, step: str, kind: str) -> Divergence | None:
    for d in DIVERGENCES:
        if d.covers(scenario, step, kind):
            return d
    return None
