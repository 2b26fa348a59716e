"""Deliberate differences between the reference server and mlflow server 2.7.1.

The single registry of them. A difference the differential tests find is accepted only when an
entry here names its scenario and step, covers its kind, and says why. Everything else fails.
An entry whose difference no longer happens fails too (remove it).

Kinds, from narrowest to widest: "message" (error text only: same status and error_code),
"content_type", "body" (same status, different body), "error_code", "status".
An entry may narrow a "body" difference further to named `fields` of the response body (as
`harness.paths_differing` names them, e.g. "run.data.metrics[key].inf2"): the difference is
accepted only if every differing path lies under a field of some entry for that step, and an
entry one of whose fields no longer differs fails as stale too.
Real bugs do not belong here: they stay failing until fixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Divergence:
    id: str
    scenario: str
    steps: tuple[str, ...]  # step names; ("*",) for every step of the scenario
    kinds: tuple[str, ...]  # which kinds of difference it allows
    reason: str
    fields: tuple[str, ...] = ()  # body fields the difference may touch; () for any

    def covers(self, scenario: str, step: str, kind: str) -> bool:
        return (
            scenario == self.scenario
            and ("*" in self.steps or step in self.steps)
            and kind in self.kinds
        )

    def field_of(self, path: str) -> str | None:
        """The field of this entry a differing record path ("body.x.y") lies under: "*" when
        the entry is not narrowed to fields, None when the path is not its to explain."""
        if not self.fields:
            return "*"
        if not path.startswith("body."):
            return None
        path = path[len("body.") :]
        for f in self.fields:
            if path == f or path.startswith((f + ".", f + "[")):
                return f
        return None


_TYPE_STRICT = (
    "The reference validates request bodies against the spec's JSON types: a value of the "
    "wrong type is 400 INVALID_PARAMETER_VALUE. 2.7.1's protobuf parser coerces some (numeric "
    "strings and booleans for numbers, an int where a string is expected), and where it fails "
    "2.7.1 keeps what it parsed so far and silently drops the rest (a fractional integer, an "
    "unknown enum name, an object where a list is expected), answering 200. Status and "
    "error_code are the point; message wording may differ."
)
_PROTO_REQUIRED = (
    "Fields the proto marks required (validate_required) that 2.7.1 does not enforce: the value "
    "of log-parameter, set-tag and set-experiment-tag, run_id and metric_key of "
    "metrics/get-history, and any parameter of a GET sent as a JSON body instead of a query "
    "string. The reference requires them, per the contract: 400 INVALID_PARAMETER_VALUE "
    "'Missing value for required parameter ...', where 2.7.1 stores '' or answers {}."
)
_LONG_KEYS = (
    "Keys longer than 250 characters (metric keys, experiment tag keys) are rejected here with "
    "400 INVALID_PARAMETER_VALUE. 2.7.1 on SQLite stores them only because SQLite ignores "
    "VARCHAR(250); on PostgreSQL 2.7.1 fails on them too."
)
_HISTORY_PAGES = (
    "metrics/get-history honours max_results and page_token here (paging as the "
    "GetMetricHistory message defines, and as the 2.7.1 client asks with max_results=25000); "
    "2.7.1's server ignores both and returns the whole history."
)

_JSON_404 = (
    "mlflow server answers an unknown path (an API path with a trailing slash included) "
    "with Flask's HTML 404 page; the reference server answers the same status with "
    'MLflow\'s JSON error body {"error_code": "ENDPOINT_NOT_FOUND"}, which the MLflow '
    "client can parse (it raises on the HTML page). Status codes match."
)
_AJAX_ONLY = "The web UI's endpoints exist under /ajax-api/2.0 only. "
_CLIENT_MISTAKE_500 = (
    "2.7.1 raises these without an error code, so they leave as 500 INTERNAL_ERROR (an HTML 500 "
    "for a max_results that is not a number), which the MLflow client retries for about a "
    "minute before losing the message. They are the caller's mistakes: 400 "
    "INVALID_PARAMETER_VALUE here, with 2.7.1's message where it has one."
)
_SPEC_REQUIRED = (
    "Fields the proto marks required that 2.7.1 does not enforce: the value of "
    "registered-models/set-tag and archive_existing_versions of transition-stage (2.7.1 takes "
    "'' and false). The reference requires them, per the contract: 400 INVALID_PARAMETER_VALUE "
    "'Missing value for required parameter ...'. The MLflow client always sends both."
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
            "trailing-slash",
        ),
        kinds=("content_type", "body"),
        reason=_JSON_404,
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
        kinds=("message",),
        reason=(
            "Renaming an experiment to a taken name surfaces an unhandled IntegrityError in "
            "mlflow: BAD_REQUEST with the SQLAlchemy exception (SQL statement, parameters, link) "
            "as message, which depends on the database driver. The reference answers the same "
            "400 BAD_REQUEST with the stable 'UNIQUE constraint failed: experiments.name'."
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
    Divergence(
        id="D7-no-sqlalchemy-text-create-run-without-experiment",
        scenario="runs-lifecycle",
        steps=("create-in-default",),
        kinds=("message",),
        reason=(
            "runs/create without experiment_id: 2.7.1 inserts the run under experiment '' and "
            "trips the foreign key, answering 400 BAD_REQUEST with the SQLAlchemy exception as "
            "message (SQL statement, parameters, link; driver-dependent). The reference answers "
            "the same 400 BAD_REQUEST with 'FOREIGN KEY constraint failed'."
        ),
    ),
    # -- Type-strict validation against the spec -------------------------------------------
    *[
        Divergence(
            id=f"D8-type-strict-{scenario}",
            scenario=scenario,
            steps=steps,
            kinds=("status",),
            reason=_TYPE_STRICT,
        )
        for scenario, steps in (
            ("experiments-bad-input", ("delete-id-int",)),  # int for a string id
            ("runs-lifecycle", ("update-bad-status", "create-tags-not-list")),  # "DONE"; {} for []
            # "2.5" and true for a double, 1.5 for an int64
            ("runs-metrics", ("log-value-numeric-string", "log-value-bool", "log-timestamp-float")),
            ("runs-log-batch", ("metric-value-string",)),  # "x" for a double
            # "NOPE" for a ViewType; a string for a list of strings
            ("search-runs-order-paging", ("view-bogus", "experiment-ids-not-list")),
            ("protocol-body-encodings", ("search-runs-experiment-ids-ints",)),  # [0] for ["0"]
        )
    ],
    Divergence(
        id="D8-type-strict-runs-metrics-get",
        scenario="runs-metrics",
        steps=("get",),
        kinds=("body",),
        fields=(
            "run.data.metrics[key].bool",
            "run.data.metrics[key].numstr",
            "run.data.metrics[key].tsfloat",
        ),
        reason="What 2.7.1 stored from the coerced values of D8-type-strict-runs-metrics "
        '(1.0 for true, 2.5 for "2.5", timestamp 0 for 1.5) is not there here. ' + _TYPE_STRICT,
    ),
    Divergence(
        id="D8-type-strict-runs-log-batch-get",
        scenario="runs-log-batch",
        steps=("get-final",),
        kinds=("body",),
        fields=("run.data.metrics[key].bs",),
        reason='The metric 2.7.1 stored as 0.0 at timestamp 0 from value "x" '
        "(D8-type-strict-runs-log-batch) is not there here. " + _TYPE_STRICT,
    ),
    # -- Fields the proto requires and 2.7.1 does not enforce ---------------------------------
    *[
        Divergence(
            id=f"D9-proto-required-{scenario}",
            scenario=scenario,
            steps=steps,
            kinds=("status",),
            reason=_PROTO_REQUIRED,
        )
        for scenario, steps in (
            ("experiments-bad-input", ("set-tag-no-value",)),
            ("runs-params-tags", ("no-value", "tag-no-value")),
            ("runs-metrics", ("history-no-key", "history-no-run")),
            ("protocol-body-encodings", ("get-with-json-body",)),
        )
    ],
    Divergence(
        id="D9-proto-required-runs-params-tags-get",
        scenario="runs-params-tags",
        steps=("get", "get-after-delete-tag"),
        kinds=("body",),
        fields=("run.data.params[key].novalue", "run.data.tags[key].novalue"),
        reason="The param and tag 2.7.1 stored with value '' when value was left out "
        "(D9-proto-required-runs-params-tags) are not there here. " + _PROTO_REQUIRED,
    ),
    # -- Keys longer than 250 characters ------------------------------------------------------
    Divergence(
        id="D10-long-keys-experiment-tag",
        scenario="experiments-bad-input",
        steps=("create-tag-key-too-long",),
        kinds=("status",),
        reason=_LONG_KEYS,
    ),
    Divergence(
        id="D10-long-keys-metric",
        scenario="runs-metrics",
        steps=("log-key-too-long",),
        kinds=("status",),
        reason=_LONG_KEYS,
    ),
    Divergence(
        id="D10-long-keys-metric-get",
        scenario="runs-metrics",
        steps=("get",),
        kinds=("body",),
        fields=("run.data.metrics[key]." + "k" * 251,),
        reason="The 251-character metric key 2.7.1 stored (D10-long-keys-metric) is not there "
        "here. " + _LONG_KEYS,
    ),
    # -- Negative paging values and a doubled AND ---------------------------------------------
    Divergence(
        id="D11-negative-paging",
        scenario="search-runs-order-paging",
        steps=("max-results-negative", "page-token-other-base64"),
        kinds=("status",),
        reason=(
            "runs/search with max_results -1, or a page token holding offset -1: 2.7.1 hands "
            "them to its SQL query (SQLite reads a negative LIMIT as no limit and a negative "
            "OFFSET as 0) and answers 200 with whatever that gives. Neither is a page anyone "
            "can ask for: the reference answers 400 INVALID_PARAMETER_VALUE."
        ),
    ),
    Divergence(
        id="D11-double-and",
        scenario="search-runs-filters",
        steps=("bad-double-and",),
        kinds=("status",),
        reason=(
            "2.7.1's filter parser drops the empty clause of 'a AND AND b' and searches "
            "'a AND b'. The filter is malformed: the reference answers 400 "
            "INVALID_PARAMETER_VALUE, as for every other malformed filter."
        ),
    ),
    # -- metrics/get-history pages ------------------------------------------------------------
    Divergence(
        id="D12-metric-history-pages",
        scenario="runs-metrics",
        steps=("history-max-results",),
        kinds=("body",),
        fields=("metrics", "next_page_token"),
        reason=_HISTORY_PAGES,
    ),
    Divergence(
        id="D12-metric-history-bad-page-token",
        scenario="runs-metrics",
        steps=("history-page-token",),
        kinds=("status",),
        reason="A page token that is not one (here 'abc') is 400 INVALID_PARAMETER_VALUE, as "
        "on every other paged endpoint; 2.7.1 ignores it. " + _HISTORY_PAGES,
    ),
    # -- One-offs ------------------------------------------------------------------------------
    Divergence(
        id="D13-rename-deleted-experiment-is-a-client-error",
        scenario="experiments-lifecycle",
        steps=("rename-deleted",),
        kinds=("status",),
        reason=(
            "Renaming a deleted experiment is 500 INVALID_STATE in 2.7.1. A 5xx for a client "
            "mistake makes the MLflow client retry for about a minute before it reports the "
            "error: the reference answers 400 INVALID_PARAMETER_VALUE with the same message."
        ),
    ),
    Divergence(
        id="D14-empty-experiment-id-is-not-default",
        scenario="experiments-bad-input",
        steps=("get-empty-id",),
        kinds=("status",),
        reason=(
            "GET experiments/get?experiment_id= (empty) returns the Default experiment in 2.7.1, "
            "by accident (its SQL store looks up `experiment_id or '0'`). The reference takes "
            "the empty id as the id it is: no such experiment, 404 RESOURCE_DOES_NOT_EXIST."
        ),
    ),
    Divergence(
        id="D15-json-nan-infinity-literals",
        scenario="runs-metrics",
        steps=("get",),
        kinds=("body",),
        fields=("run.data.metrics[key].inf2", "run.data.metrics[key].nan2"),
        reason=(
            'A metric value sent as a bare JSON NaN or Infinity token (not the "NaN" / '
            '"Infinity" strings the MLflow client sends): 2.7.1\'s protobuf parser fails on '
            "it half-way and 2.7.1 silently stores value 0.0 at timestamp 0. The reference "
            "stores the value sent at the timestamp sent (NaN; Infinity clamped as 2.7.1 "
            "clamps the string form)."
        ),
    ),
    *[
        Divergence(
            id=f"D16-filter-parse-error-messages-{scenario}",
            scenario=scenario,
            steps=steps,
            kinds=("message",),
            reason=(
                "A filter that does not parse: 2.7.1's message lists the sqlparse tokens it "
                "could not use (\"Invalid clause(s) in filter string: 'metrics.acc', '>'\"); "
                "the reference quotes the unparsable rest of the filter. Same 400 "
                "INVALID_PARAMETER_VALUE; only the wording differs."
            ),
        )
        for scenario, steps in (
            ("experiments-search", ("bad-filter", "bad-filter-or")),
            (
                "search-runs-filters",
                ("bad-or", "bad-no-value", "bad-unclosed-quote", "bad-garbage"),
            ),
        )
    ],
    # The model registry.
    Divergence(
        id="R1-no-sqlalchemy-text-in-registry-messages",
        scenario="registry-models",
        steps=("create-duplicate", "rename-to-taken"),
        kinds=("message",),
        reason=(
            "2.7.1 appends SQLAlchemy's IntegrityError text (the SQL statement, its parameters, "
            "a link) to 'Registered Model (name=...) already exists.'; the reference stops at "
            "the sentence. Same 400 RESOURCE_ALREADY_EXISTS."
        ),
    ),
    *[
        Divergence(
            id=f"R2-client-mistake-not-500-{scenario}",
            scenario=scenario,
            steps=steps,
            kinds=("status",),
            reason=_CLIENT_MISTAKE_500,
        )
        for scenario, steps in (
            ("registry-versions", ("to-archived-archiving",)),
            (
                "registry-search",
                ("models-max-not-int", "models-duplicate-order", "versions-duplicate-order"),
            ),
        )
    ],
    *[
        Divergence(
            id=f"R3-spec-required-{scenario}",
            scenario=scenario,
            steps=steps,
            kinds=("status",),
            reason=_SPEC_REQUIRED,
        )
        for scenario, steps in (
            ("registry-models", ("set-tag-no-value",)),
            ("registry-versions", ("transition-no-archive-flag",)),
        )
    ],
    Divergence(
        id="R3-spec-required-registry-models-get",
        scenario="registry-models",
        steps=("get-tagged", "get-after-delete-tag"),
        kinds=("body",),
        fields=("registered_model.tags[key].n",),
        reason="The tag 2.7.1 stores with value '' (R3-spec-required-registry-models) is not "
        "there here. " + _SPEC_REQUIRED,
    ),
    Divergence(
        id="R4-missing-version-parameter",
        scenario="registry-versions",
        steps=("get-no-version", "download-uri-no-version"),
        kinds=("message",),
        reason=(
            "A GET with some query parameters but not `version`: 2.7.1 skips its required-field "
            'checks for GETs with a query string and fails later on the empty version ("Model '
            "version must be an integer, got ''\"); the reference checks the spec's required "
            "parameters first (\"Missing value for required parameter 'version'\"). Same 400 "
            "INVALID_PARAMETER_VALUE."
        ),
    ),
    Divergence(
        id="R5-negative-max-results",
        scenario="registry-search",
        steps=("models-max-negative",),
        kinds=("status",),
        reason=(
            "registered-models/search with a negative max_results: 2.7.1 answers 200 with no "
            "models and a page token of offset -1. The reference answers 400 "
            "INVALID_PARAMETER_VALUE, as it does for runs/search (D11-negative-paging)."
        ),
    ),
    Divergence(
        id="R6-filter-parse-error-messages",
        scenario="registry-search",
        steps=("models-or", "models-garbage"),
        kinds=("message",),
        reason=(
            "A filter that does not parse: 2.7.1's message lists the sqlparse tokens it could "
            "not use ('Invalid clause(s) in filter string: OR'); the reference quotes the "
            "unparsable rest of the filter. Same 400 INVALID_PARAMETER_VALUE (as D16)."
        ),
    ),
    Divergence(
        id="A1-delete-artifact-file",
        scenario="artifacts-proxy",
        steps=("delete-file", "get-deleted"),
        kinds=("status",),
        reason=(
            "DELETE of a single file through the proxy fails in 2.7.1 (500, HTML page: its "
            "local artifact repository removes a folder tree, not a file) and leaves the file "
            "in place. The reference deletes the file and answers {}; afterwards its download "
            "is 404 RESOURCE_DOES_NOT_EXIST where 2.7.1 still serves it."
        ),
    ),
    Divergence(
        id="A1-delete-artifact-file-listing",
        scenario="artifacts-proxy",
        steps=("list-after-delete-file",),
        kinds=("body",),
        fields=("files",),
        reason="The file 2.7.1 failed to delete (A1-delete-artifact-file) is still listed there.",
    ),
    Divergence(
        id="A2-artifact-client-mistakes-are-4xx",
        scenario="artifacts-proxy-invalid",
        steps=(
            "put-dot-segment",
            "put-nul",
            "put-long-name",
            "put-under-a-file",
            "put-onto-a-folder",
            "get-missing",
            "get-a-folder",
            "get-long-name",
        ),
        kinds=("status",),
        reason=(
            "Uploads to a path that cannot name a file ('.' segment, NUL, a name longer than the "
            "filesystem allows, below an existing file, onto a folder) and downloads of a file "
            "that is not there (missing, a folder, a name too long) fail inside 2.7.1 as 500 "
            "(HTML, or INTERNAL_ERROR with the server's local paths), which the MLflow client "
            "retries for about a minute. The reference answers 400 INVALID_PARAMETER_VALUE for "
            "the paths and 404 RESOURCE_DOES_NOT_EXIST for the missing files."
        ),
    ),
    Divergence(
        id="A3-backslash-in-artifact-paths",
        scenario="artifacts-proxy-invalid",
        steps=("put-backslash", "list-backslash"),
        kinds=("status",),
        reason=(
            "2.7.1 refuses a backslash in an artifact path only when the server runs on Windows "
            "(where it is a separator); on Linux it stores 'back\\slash.txt' as one name. The "
            "reference refuses it everywhere (400 INVALID_PARAMETER_VALUE 'Invalid path'), so "
            "that a store written on one system reads the same on another."
        ),
    ),
    Divergence(
        id="A4-doubled-separator-upload",
        scenario="artifacts-proxy-invalid",
        steps=("put-doubled-separator",),
        kinds=("status",),
        reason=(
            "An upload path with an empty segment ('x//y.txt'): 2.7.1 stores it as x/y.txt when "
            "the empty segment is last before the file name and fails with 500 elsewhere "
            "('0//r/y.txt'). The reference refuses every empty or '.' segment in an upload path "
            "with 400 INVALID_PARAMETER_VALUE, so that a file has one name. The MLflow client "
            "never sends one (it refuses such artifact paths itself)."
        ),
    ),
    Divergence(
        id="A5-unnameable-paths-are-invalid",
        scenario="artifacts-proxy-invalid",
        steps=("list-nul", "list-long-name", "delete-long-name"),
        kinds=("status",),
        reason=(
            "Listing or deleting a path with a NUL or a segment longer than the filesystem "
            "allows: 2.7.1 answers {} as if the path were merely missing. The reference answers "
            "400 INVALID_PARAMETER_VALUE: no artifact can have that path."
        ),
    ),
    Divergence(
        id="A3-A4-listing-after-refused-uploads",
        scenario="artifacts-proxy-invalid",
        steps=("list-run-after",),
        kinds=("body",),
        fields=("files",),
        reason=(
            "The run's folder lists the files 2.7.1 stored for the uploads the reference refused "
            "(A3-backslash-in-artifact-paths, A4-doubled-separator-upload)."
        ),
    ),
    Divergence(
        id="A6-artifacts-list-without-run-id",
        scenario="artifacts-tracking-list",
        steps=("list-no-run-id",),
        kinds=("status",),
        reason=(
            "artifacts/list without run_id: 2.7.1 looks up the run '' and answers 404 "
            "RESOURCE_DOES_NOT_EXIST 'Run with id= not found'. The reference checks the spec's "
            "required parameter first: 400 INVALID_PARAMETER_VALUE 'Missing value for required "
            "parameter 'run_id''. " + _PROTO_REQUIRED
        ),
    ),
    Divergence(
        id="A7-log-model-json-not-an-object",
        scenario="artifacts-logged-models",
        steps=("log-model-json-list",),
        kinds=("status",),
        reason=(
            "runs/log-model whose model_json is valid JSON but not an object ('[1, 2]') crashes "
            "2.7.1 (500, HTML page). The reference answers 400 INVALID_PARAMETER_VALUE with "
            "2.7.1's 'Malformed model info' message. " + _CLIENT_MISTAKE_500
        ),
    ),
    *(
        Divergence(
            id=f"U{n}-ui-json-404",
            scenario=scenario,
            steps=(step,),
            kinds=("content_type", "body"),
            reason=why + _JSON_404,
        )
        for n, scenario, step, why in (
            (1, "ui-metric-history-bulk", "not-under-api", _AJAX_ONLY),
            (2, "ui-datasets-and-gateway", "search-not-under-api", _AJAX_ONLY),
            (5, "ui-static-files", "missing-file", "A file the UI's build does not have. "),
        )
    ),
    Divergence(
        id="U3-missing-artifact-preview-404",
        scenario="ui-artifact-previews",
        steps=("get-missing", "get-a-folder"),
        kinds=("status",),
        reason=(
            "Previewing a file that is not there (missing, or a folder) fails inside 2.7.1 as "
            "500 (HTML page). The reference answers 404 RESOURCE_DOES_NOT_EXIST, as its "
            "artifact proxy does for the same file."
        ),
    ),
    Divergence(
        id="U4-datasets-belong-to-their-experiment",
        scenario="ui-datasets-and-gateway",
        steps=("search-second-experiment",),
        kinds=("body",),
        fields=("dataset_summaries",),
        reason=(
            "2.7.1 looks up a logged dataset by name and digest in every experiment: a second "
            "experiment logging the same dataset links its run to the first experiment's row, "
            "so search-datasets (the UI's dataset filter) lists nothing for the second "
            "experiment. The reference keeps datasets per experiment (as the schema's "
            "experiment_id column says) and lists the dataset in both."
        ),
    ),
]


def explain(scenario: str, step: str, kind: str, paths: list[str]) -> dict[str, set[str]] | None:
    """The entries that together explain a difference whose records differ at `paths`, each with
    the fields it explained ({"*"} for an entry not narrowed to fields); None if any path is
    left unexplained."""
    candidates = [d for d in DIVERGENCES if d.covers(scenario, step, kind)]
    used: dict[str, set[str]] = {}
    for path in paths or ["*"]:
        for d in candidates:
            f = d.field_of(path) if path != "*" else ("*" if not d.fields else None)
            if f is not None:
                used.setdefault(d.id, set()).add(f)
                break
        else:
            return None
    return used


BY_ID = {d.id: d for d in DIVERGENCES}
assert len(BY_ID) == len(DIVERGENCES), "divergence ids must be unique"


# ---------------------------------------------------------------------------------------------
# Boundaries (test_boundaries.py): value rules the spec states that 2.7.1 does not keep on some
# backend. (pattern matched at the start of a case id, backends, reason); a case id is
# "<operationId>:<field>:<keyword>:<inside|outside>:<value>".
_BOTH = ("sqlite", "postgresql")
BOUNDARY_DIVERGENCES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "createExperiment:artifact_location:pattern:outside:'runs:",
        _BOTH,
        "An experiment's artifact_location may not be a runs:/ URI (the 2.7.1 client refuses it "
        "in create_experiment; 2.7.1's server stores it, and its runs then cannot hold "
        "artifacts). Refused here: 400 INVALID_PARAMETER_VALUE.",
    ),
    (
        "logMetric:key:maxLength:outside:",
        _BOTH,
        _LONG_KEYS + " (On PostgreSQL 2.7.1's refusal is a database error, 400 BAD_REQUEST.)",
    ),
    (
        "createExperiment:tags.0.key:maxLength:outside:",
        _BOTH,
        _LONG_KEYS + " (On PostgreSQL 2.7.1's refusal is a database error, 400 BAD_REQUEST.)",
    ),
    (
        "createExperiment:tags.0.value:maxLength:outside:",
        _BOTH,
        "An experiment tag value over 5000 characters at creation: 2.7.1 checks no limit there; "
        "SQLite stores it and PostgreSQL's VARCHAR(5000) refuses it (400 BAD_REQUEST). Refused "
        "here on every backend with 400 INVALID_PARAMETER_VALUE, as set-experiment-tag does.",
    ),
    (
        r"\w+:version:pattern:inside:'1_0'",
        ("postgresql",),
        "A model version written with an underscore between digits ('1_0'): 2.7.1 passes the "
        "text to SQL, which SQLite compares as the number 10 and PostgreSQL refuses as no "
        "integer (400 BAD_REQUEST). The reference reads it as Python's int() does, on every "
        "backend, as 2.7.1's own check of the version (int()) does.",
    ),
    (
        r"transitionModelVersionStage:version:pattern:outside:'(?!')",
        ("postgresql",),
        "A model version that is no integer (an empty one 2.7.1 refuses first, as the reference "
        "does) on transition-stage: 2.7.1 on PostgreSQL passes it "
        "to SQL, whose refusal is a database error (400 BAD_REQUEST); on SQLite, and here on "
        "every backend, 400 INVALID_PARAMETER_VALUE.",
    ),
    (
        "createRun:tags.0.key:maxLength:outside:",
        _BOTH,
        _LONG_KEYS + " (On PostgreSQL 2.7.1's refusal is a database error, 400 BAD_REQUEST.)",
    ),
    (
        "createRun:tags.0.value:maxLength:outside:",
        _BOTH,
        "A run tag value over 5000 characters at run creation: 2.7.1 checks no limit there; "
        "SQLite stores it and PostgreSQL's VARCHAR(5000) refuses it (400 BAD_REQUEST). Refused "
        "here on every backend with 400 INVALID_PARAMETER_VALUE, as set-tag does.",
    ),
    (
        "getMetricHistory:max_results:minimum:outside:",
        _BOTH,
        _HISTORY_PAGES + " A negative page size is refused: 400 INVALID_PARAMETER_VALUE.",
    ),
    (
        "searchRuns:max_results:minimum:outside:",
        _BOTH,
        "A negative max_results: 2.7.1 passes it to SQL as a LIMIT, which SQLite reads as no "
        "limit (200, every run) and PostgreSQL refuses (400 BAD_REQUEST). A negative page size "
        "is the caller's mistake: 400 INVALID_PARAMETER_VALUE here, on every backend.",
    ),
    (
        "searchRegisteredModels:max_results:minimum:outside:",
        _BOTH,
        "A negative max_results: 2.7.1 answers 200 on SQLite (with a page token for offset -1) "
        "and 400 BAD_REQUEST on PostgreSQL (a negative LIMIT). 400 INVALID_PARAMETER_VALUE here.",
    ),
    (
        "logInputs:datasets.0.dataset.source_type:maxLength:outside:",
        _BOTH,
        "A dataset source_type over 36 characters: 2.7.1 checks no limit; its SQLite store keeps "
        "the text and its PostgreSQL column (VARCHAR(36)) fails with a 500 when the dataset is "
        "new (an existing name and digest is reused without a write, 200). Refused here on every "
        "backend, as the column width states.",
    ),
)


def boundary_divergence(case_id: str, backend: str) -> str | None:
    """The reason a boundary case differs from 2.7.1 on `backend`, if it is registered."""
    for pattern, backends, reason in BOUNDARY_DIVERGENCES:
        if re.match(pattern, case_id) and backend in backends:
            return reason
    return None
