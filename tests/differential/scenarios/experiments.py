"""Experiments: lifecycle, tags, search, and every way to get them wrong."""

from ..harness import Scenario, get, post

NAME = "diff-${u}"  # ${u}: a token unique to one replay pair, the same on both servers


def create(step: str, name: str, var: str | None = None, **extra):
    return post(
        step,
        "experiments/create",
        {"name": name, **extra},
        capture={var: "experiment_id"} if var else {},
    )


LIFECYCLE = Scenario(
    "experiments-lifecycle",
    doc="create, read by id and name, rename, delete, restore, tag",
    steps=[
        create("create", f"{NAME}-life", "exp"),
        get("get", "experiments/get", {"experiment_id": "${exp}"}),
        get("get-by-name", "experiments/get-by-name", {"experiment_name": f"{NAME}-life"}),
        get("get-default", "experiments/get", {"experiment_id": "0"}),
        create("create-duplicate", f"{NAME}-life"),
        post("rename", "experiments/update", {"experiment_id": "${exp}", "new_name": f"{NAME}-2"}),
        get("get-renamed", "experiments/get", {"experiment_id": "${exp}"}),
        get("get-by-old-name", "experiments/get-by-name", {"experiment_name": f"{NAME}-life"}),
        post(
            "rename-to-same",
            "experiments/update",
            {"experiment_id": "${exp}", "new_name": f"{NAME}-2"},
        ),
        create("create-other", f"{NAME}-other", "other"),
        post(
            "rename-to-taken",
            "experiments/update",
            {"experiment_id": "${exp}", "new_name": f"{NAME}-other"},
        ),
        post(
            "set-tag",
            "experiments/set-experiment-tag",
            {"experiment_id": "${exp}", "key": "team", "value": "ml"},
        ),
        post(
            "overwrite-tag",
            "experiments/set-experiment-tag",
            {"experiment_id": "${exp}", "key": "team", "value": "platform"},
        ),
        post(
            "set-empty-tag",
            "experiments/set-experiment-tag",
            {"experiment_id": "${exp}", "key": "empty", "value": ""},
        ),
        get("get-tagged", "experiments/get", {"experiment_id": "${exp}"}),
        post("delete", "experiments/delete", {"experiment_id": "${exp}"}),
        get("get-deleted", "experiments/get", {"experiment_id": "${exp}"}),
        get("get-by-name-deleted", "experiments/get-by-name", {"experiment_name": f"{NAME}-2"}),
        post("delete-again", "experiments/delete", {"experiment_id": "${exp}"}),
        post(
            "set-tag-deleted",
            "experiments/set-experiment-tag",
            {"experiment_id": "${exp}", "key": "k", "value": "v"},
        ),
        post(
            "rename-deleted", "experiments/update", {"experiment_id": "${exp}", "new_name": "x${u}"}
        ),
        create("create-name-of-deleted", f"{NAME}-2"),
        post("restore", "experiments/restore", {"experiment_id": "${exp}"}),
        post("restore-active", "experiments/restore", {"experiment_id": "${exp}"}),
        get("get-restored", "experiments/get", {"experiment_id": "${exp}"}),
        create(
            "create-with-location-and-tags",
            f"{NAME}-loc",
            "loc",
            artifact_location="/tmp/diff-${u}-art",
            tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}],
        ),
        get("get-with-location", "experiments/get", {"experiment_id": "${loc}"}),
        create("create-odd-name", f"{NAME} with spaces/and.dots-ok"),
        create("create-unicode-name", f"{NAME}-ünïcødé"),
    ],
)

MISSING = Scenario(
    "experiments-missing",
    doc="references to experiments that do not exist",
    steps=[
        get("get-missing", "experiments/get", {"experiment_id": "987654"}),
        get("get-by-name-missing", "experiments/get-by-name", {"experiment_name": "no-${u}"}),
        post("delete-missing", "experiments/delete", {"experiment_id": "987654"}),
        post("restore-missing", "experiments/restore", {"experiment_id": "987654"}),
        post("update-missing", "experiments/update", {"experiment_id": "987654", "new_name": "z"}),
        post(
            "set-tag-missing",
            "experiments/set-experiment-tag",
            {"experiment_id": "987654", "key": "k", "value": "v"},
        ),
        get("get-non-numeric", "experiments/get", {"experiment_id": "abc"}),
        get("get-bad-chars", "experiments/get", {"experiment_id": "../etc"}),
        get("get-negative", "experiments/get", {"experiment_id": "-1"}),
        get("get-huge", "experiments/get", {"experiment_id": "99999999999999999999999"}),
        post("delete-non-numeric", "experiments/delete", {"experiment_id": "abc"}),
    ],
)

BAD_INPUT = Scenario(
    "experiments-bad-input",
    doc="missing required fields, wrong types, limits",
    steps=[
        post("create-no-name", "experiments/create", {}),
        post("create-empty-name", "experiments/create", {"name": ""}),
        post("create-name-int", "experiments/create", {"name": 123}),
        post("create-name-null", "experiments/create", {"name": None}),
        post("create-name-list", "experiments/create", {"name": ["a"]}),
        post("create-tags-not-list", "experiments/create", {"name": f"{NAME}-t", "tags": "x"}),
        post(
            "create-location-int",
            "experiments/create",
            {"name": f"{NAME}-l", "artifact_location": 5},
        ),
        post(
            "create-tag-key-too-long",
            "experiments/create",
            {"name": f"{NAME}-long", "tags": [{"key": "k" * 251, "value": "v"}]},
        ),
        post("create-name-too-long", "experiments/create", {"name": f"{NAME}-" + "n" * 600}),
        get("get-no-id", "experiments/get"),
        get("get-empty-id", "experiments/get", {"experiment_id": ""}),
        get("get-by-name-no-name", "experiments/get-by-name"),
        get("get-by-name-empty", "experiments/get-by-name", {"experiment_name": ""}),
        create("create-for-updates", f"{NAME}-bad", "exp"),
        post("update-no-name", "experiments/update", {"experiment_id": "${exp}"}),
        post(
            "update-empty-name", "experiments/update", {"experiment_id": "${exp}", "new_name": ""}
        ),
        post("update-no-id", "experiments/update", {"new_name": "x"}),
        post("update-nothing", "experiments/update", {}),
        post(
            "update-empty-id-and-name", "experiments/update", {"experiment_id": "", "new_name": ""}
        ),
        post("delete-no-id", "experiments/delete", {}),
        post("delete-id-int", "experiments/delete", {"experiment_id": 12345678}),
        post("restore-no-id", "experiments/restore", {}),
        post("set-tag-no-key", "experiments/set-experiment-tag", {"experiment_id": "${exp}"}),
        post(
            "set-tag-no-value",
            "experiments/set-experiment-tag",
            {"experiment_id": "${exp}", "key": "k"},
        ),
        post(
            "set-tag-key-too-long",
            "experiments/set-experiment-tag",
            {"experiment_id": "${exp}", "key": "k" * 251, "value": "v"},
        ),
        post(
            "set-tag-value-too-long",
            "experiments/set-experiment-tag",
            {"experiment_id": "${exp}", "key": "k", "value": "v" * 5001},
        ),
        post(
            "set-tag-value-5000",
            "experiments/set-experiment-tag",
            {"experiment_id": "${exp}", "key": "k", "value": "v" * 5000},
        ),
        post(
            "set-tag-value-int",
            "experiments/set-experiment-tag",
            {"experiment_id": "${exp}", "key": "k2", "value": 7},
        ),
        post(
            "set-tag-bad-key",
            "experiments/set-experiment-tag",
            {"experiment_id": "${exp}", "key": "../x", "value": "v"},
        ),
        get("get-after-bad-tags", "experiments/get", {"experiment_id": "${exp}"}),
    ],
)


def _search_setup():
    steps = []
    for i, (name, team) in enumerate(
        [("alpha", "a"), ("beta", "b"), ("gamma", "a"), ("delta", "c")]
    ):
        steps.append(
            create(
                f"create-{name}",
                f"{NAME}-s-{name}",
                f"e{i}",
                tags=[{"key": "team", "value": team}, {"key": "idx", "value": str(i)}],
            )
        )
    steps.append(post("delete-delta", "experiments/delete", {"experiment_id": "${e3}"}))
    return steps


MINE = f"name LIKE '{NAME}-s-%'"

SEARCH = Scenario(
    "experiments-search",
    doc="experiments/search over GET and POST: filter, order_by, max_results, paging, view types",
    steps=[
        *_search_setup(),
        get("get-filter-name-like", "experiments/search", {"filter": MINE, "max_results": 10}),
        post("post-filter-name-like", "experiments/search", {"filter": MINE, "max_results": 10}),
        post(
            "order-name-asc",
            "experiments/search",
            {"filter": MINE, "order_by": ["name ASC"], "max_results": 10},
        ),
        post(
            "order-name-desc",
            "experiments/search",
            {"filter": MINE, "order_by": ["name DESC"], "max_results": 10},
        ),
        get(
            "get-order-name-desc",
            "experiments/search",
            {"filter": MINE, "order_by": "name DESC", "max_results": 10},
        ),
        post(
            "order-id-desc",
            "experiments/search",
            {"filter": MINE, "order_by": ["experiment_id DESC"], "max_results": 10},
        ),
        post(
            "order-creation-time",
            "experiments/search",
            {"filter": MINE, "order_by": ["creation_time ASC", "name"], "max_results": 10},
        ),
        post(
            "filter-tag",
            "experiments/search",
            {"filter": f"{MINE} AND tags.team = 'a'", "order_by": ["name"], "max_results": 100},
        ),
        post(
            "filter-tag-backticks",
            "experiments/search",
            {"filter": f"{MINE} AND tags.`team` != 'a'", "order_by": ["name"], "max_results": 100},
        ),
        post(
            "filter-tag-like",
            "experiments/search",
            {"filter": f"{MINE} AND tags.team LIKE '%b%'", "max_results": 100},
        ),
        post(
            "filter-name-equals",
            "experiments/search",
            {"filter": f"name = '{NAME}-s-beta'", "max_results": 100},
        ),
        post(
            "filter-name-ilike",
            "experiments/search",
            {"filter": "name ILIKE 'DIFF-${u}-S-%A'", "order_by": ["name"], "max_results": 100},
        ),
        post(
            "filter-creation-time",
            "experiments/search",
            {"filter": f"{MINE} AND creation_time > 0", "order_by": ["name"], "max_results": 100},
        ),
        post(
            "page-1",
            "experiments/search",
            {"filter": MINE, "order_by": ["name"], "max_results": 2},
            capture={"t1": "next_page_token"},
        ),
        post(
            "page-2",
            "experiments/search",
            {"filter": MINE, "order_by": ["name"], "max_results": 2, "page_token": "${t1}"},
        ),
        get(
            "get-page-1",
            "experiments/search",
            {"filter": MINE, "order_by": "name", "max_results": 1},
            capture={"g1": "next_page_token"},
        ),
        get(
            "get-page-2",
            "experiments/search",
            {"filter": MINE, "order_by": "name", "max_results": 1, "page_token": "${g1}"},
        ),
        post(
            "view-deleted-only",
            "experiments/search",
            {"filter": MINE, "view_type": "DELETED_ONLY", "max_results": 100},
        ),
        post(
            "view-all",
            "experiments/search",
            {"filter": MINE, "view_type": "ALL", "order_by": ["name"], "max_results": 100},
        ),
        get(
            "get-view-all",
            "experiments/search",
            {"filter": MINE, "view_type": "ALL", "order_by": "name", "max_results": 100},
        ),
        post(
            "view-active-only",
            "experiments/search",
            {"filter": MINE, "view_type": "ACTIVE_ONLY", "order_by": ["name"], "max_results": 100},
        ),
        post(
            "view-bogus",
            "experiments/search",
            {"filter": MINE, "view_type": "SOME", "max_results": 100},
        ),
        post("no-max-results", "experiments/search", {"filter": MINE}),
        get("get-no-max-results", "experiments/search", {"filter": MINE}),
        post("null-max-results", "experiments/search", {"filter": MINE, "max_results": None}),
        post("max-results-0", "experiments/search", {"filter": MINE, "max_results": 0}),
        post("max-results-huge", "experiments/search", {"filter": MINE, "max_results": 50001}),
        post("max-results-string", "experiments/search", {"filter": MINE, "max_results": "x"}),
        post("bad-filter", "experiments/search", {"filter": "name LIKE", "max_results": 100}),
        post("bad-filter-attr", "experiments/search", {"filter": "foo = 'x'", "max_results": 100}),
        post(
            "bad-filter-or",
            "experiments/search",
            {"filter": "name = 'a' OR name = 'b'", "max_results": 100},
        ),
        post(
            "bad-order-by",
            "experiments/search",
            {"filter": MINE, "order_by": ["bogus"], "max_results": 100},
        ),
        post(
            "bad-order-dir",
            "experiments/search",
            {"filter": MINE, "order_by": ["name UP"], "max_results": 100},
        ),
        post(
            "bad-page-token",
            "experiments/search",
            {"filter": MINE, "page_token": "garbage", "max_results": 100},
        ),
    ],
)

SCENARIOS = [LIFECYCLE, MISSING, BAD_INPUT, SEARCH]
