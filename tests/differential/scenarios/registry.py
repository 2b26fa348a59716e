"""The model registry: registered models, versions, stages, tags, aliases, search, and every way
to get them wrong. Names carry ${u}, so searches see only this replay's models."""

from ..harness import Scenario, Step, get, post
from .runs import new_experiment, new_run

M = "reg-${u}"  # ${u}: a token unique to one replay pair, the same on both servers


def patch(name: str, path: str, body, **kw) -> Step:
    return Step(name, "PATCH", path, json=body, **kw)


def delete(name: str, path: str, body, **kw) -> Step:
    return Step(name, "DELETE", path, json=body, **kw)


def create_model(step: str, name: str, **extra) -> Step:
    return post(step, "registered-models/create", {"name": name, **extra})


def create_version(step: str, name: str, source: str = "s3://bucket/model", **extra) -> Step:
    return post(step, "model-versions/create", {"name": name, "source": source, **extra})


def transition(step: str, name: str, version: str, stage: str, archive: bool = False) -> Step:
    body = {"name": name, "version": version, "stage": stage, "archive_existing_versions": archive}
    return post(step, "model-versions/transition-stage", body)


def get_model(step: str, name: str) -> Step:
    return get(step, "registered-models/get", {"name": name})


def get_version(step: str, name: str, version: str) -> Step:
    return get(step, "model-versions/get", {"name": name, "version": version})


MODELS = Scenario(
    "registry-models",
    doc="registered models: create, read, update, rename, delete, tags",
    steps=[
        create_model("create", f"{M}-a"),
        create_model("create-duplicate", f"{M}-a"),
        create_model(
            "create-with-tags",
            f"{M}-b",
            description="the b model",
            tags=[{"key": "team", "value": "ml"}, {"key": "empty"}, {"key": "team", "value": "x"}],
        ),
        get_model("get", f"{M}-a"),
        get_model("get-with-tags", f"{M}-b"),
        get_model("get-missing", f"{M}-nope"),
        get("get-no-name", "registered-models/get", {}),
        get("get-empty-name", "registered-models/get", {"name": ""}),
        patch("update", "registered-models/update", {"name": f"{M}-a", "description": "d"}),
        patch("update-no-description", "registered-models/update", {"name": f"{M}-b"}),
        patch(
            "update-missing", "registered-models/update", {"name": f"{M}-no", "description": "d"}
        ),
        patch("update-no-name", "registered-models/update", {"description": "d"}),
        post("rename", "registered-models/rename", {"name": f"{M}-a", "new_name": f"{M}-a2"}),
        get_model("get-renamed", f"{M}-a2"),
        get_model("get-old-name", f"{M}-a"),
        post(
            "rename-to-same", "registered-models/rename", {"name": f"{M}-a2", "new_name": f"{M}-a2"}
        ),
        post(
            "rename-to-taken", "registered-models/rename", {"name": f"{M}-a2", "new_name": f"{M}-b"}
        ),
        post(
            "rename-missing", "registered-models/rename", {"name": f"{M}-no", "new_name": "x${u}"}
        ),
        post("rename-no-new-name", "registered-models/rename", {"name": f"{M}-a2"}),
        post(
            "rename-empty-new-name", "registered-models/rename", {"name": f"{M}-a2", "new_name": ""}
        ),
        post("set-tag", "registered-models/set-tag", {"name": f"{M}-a2", "key": "k", "value": "v"}),
        post(
            "overwrite-tag",
            "registered-models/set-tag",
            {"name": f"{M}-a2", "key": "k", "value": "w"},
        ),
        post(
            "set-empty-tag",
            "registered-models/set-tag",
            {"name": f"{M}-a2", "key": "e", "value": ""},
        ),
        post(
            "set-tag-bad-key",
            "registered-models/set-tag",
            {"name": f"{M}-a2", "key": "../k", "value": "v"},
        ),
        post(
            "set-tag-long-key",
            "registered-models/set-tag",
            {"name": f"{M}-a2", "key": "k" * 251, "value": "v"},
        ),
        post(
            "set-tag-long-value",
            "registered-models/set-tag",
            {"name": f"{M}-a2", "key": "k", "value": "v" * 5001},
        ),
        post(
            "set-tag-missing-model",
            "registered-models/set-tag",
            {"name": f"{M}-no", "key": "k", "value": "v"},
        ),
        post("set-tag-no-key", "registered-models/set-tag", {"name": f"{M}-a2", "value": "v"}),
        post("set-tag-no-value", "registered-models/set-tag", {"name": f"{M}-a2", "key": "n"}),
        get_model("get-tagged", f"{M}-a2"),
        delete("delete-tag", "registered-models/delete-tag", {"name": f"{M}-a2", "key": "k"}),
        delete("delete-tag-again", "registered-models/delete-tag", {"name": f"{M}-a2", "key": "k"}),
        delete(
            "delete-tag-bad-key", "registered-models/delete-tag", {"name": f"{M}-a2", "key": "/k"}
        ),
        delete(
            "delete-tag-missing-model",
            "registered-models/delete-tag",
            {"name": f"{M}-no", "key": "k"},
        ),
        get_model("get-after-delete-tag", f"{M}-a2"),
        delete("delete", "registered-models/delete", {"name": f"{M}-a2"}),
        delete("delete-again", "registered-models/delete", {"name": f"{M}-a2"}),
        get_model("get-deleted", f"{M}-a2"),
        delete("delete-no-name", "registered-models/delete", {}),
        create_model("create-name-of-deleted", f"{M}-a2"),
        create_model("create-odd-name", f"{M} with spaces/and.dots-ünï"),
        get_model("get-odd-name", f"{M} with spaces/and.dots-ünï"),
        post("create-no-name", "registered-models/create", {}),
        post("create-empty-name", "registered-models/create", {"name": ""}),
        post("create-name-int", "registered-models/create", {"name": 5}),
        post("create-tags-not-list", "registered-models/create", {"name": f"{M}-t", "tags": "x"}),
        create_model("create-tag-no-key", f"{M}-t", tags=[{"value": "v"}]),
        create_model("create-tag-bad-key", f"{M}-t", tags=[{"key": "a/../b", "value": "v"}]),
        get_model("get-not-created", f"{M}-t"),
    ],
)

VERSIONS = Scenario(
    "registry-versions",
    doc="model versions: create from a run, read, update, stages, latest versions, delete",
    steps=[
        new_experiment(suffix="registry"),
        new_run("create-run", "run"),
        get("get-run", "runs/get", {"run_id": "${run}"}, capture={"art": "run.info.artifact_uri"}),
        create_model("create-model", f"{M}-v"),
        create_version("create-v1", f"{M}-v", "${art}/model", run_id="${run}"),
        create_version("create-v2-no-run", f"{M}-v", "${art}/model"),
        create_version(
            "create-v3-full",
            f"{M}-v",
            "s3://bucket/path/model",
            run_id="${run}",
            run_link="http://example.com/run",
            description="third",
            tags=[{"key": "t", "value": "1"}, {"key": "u"}],
        ),
        create_version("create-unknown-run", f"{M}-v", "s3://bucket/x", run_id="nonexistent"),
        create_version("create-missing-model", f"{M}-nope"),
        post("create-no-source", "model-versions/create", {"name": f"{M}-v"}),
        post("create-no-name", "model-versions/create", {"source": "s3://b/x"}),
        create_version("create-local-source", f"{M}-v", "/tmp/model"),
        create_version("create-local-source-run", f"{M}-v", "/tmp/model", run_id="${run}"),
        create_version("create-file-source", f"{M}-v", "file:///tmp/model"),
        create_version("create-file-host-source", f"{M}-v", "file://somehost/tmp/model"),
        create_version("create-relative-source", f"{M}-v", "s3://bucket/a/../../etc"),
        create_version("create-quoted-relative", f"{M}-v", "http://h/a/%2E%2E/%2E%2E/etc"),
        create_version("create-tag-bad-key", f"{M}-v", tags=[{"key": "", "value": "v"}]),
        get_version("get-v1", f"{M}-v", "1"),
        get_version("get-v3", f"{M}-v", "3"),
        get_version("get-version-missing", f"{M}-v", "99"),
        get_version("get-version-not-int", f"{M}-v", "one"),
        get_version("get-version-float", f"{M}-v", "1.0"),
        get_version("get-version-padded", f"{M}-v", "01"),
        get_version("get-model-missing", f"{M}-nope", "1"),
        get("get-no-params", "model-versions/get", {}),
        get("get-no-version", "model-versions/get", {"name": f"{M}-v"}),
        get("download-uri-no-version", "model-versions/get-download-uri", {"name": f"{M}-v"}),
        get_model("get-model", f"{M}-v"),
        patch(
            "update",
            "model-versions/update",
            {"name": f"{M}-v", "version": "1", "description": "x"},
        ),
        patch("update-clear", "model-versions/update", {"name": f"{M}-v", "version": "2"}),
        patch(
            "update-empty",
            "model-versions/update",
            {"name": f"{M}-v", "version": "3", "description": ""},
        ),
        patch(
            "update-missing",
            "model-versions/update",
            {"name": f"{M}-v", "version": "9", "description": "x"},
        ),
        patch("update-version-int", "model-versions/update", {"name": f"{M}-v", "version": 1}),
        transition("to-staging", f"{M}-v", "1", "staging"),
        transition("to-production", f"{M}-v", "2", "Production"),
        transition("to-production-archiving", f"{M}-v", "3", "PRODUCTION", archive=True),
        transition("to-bad-stage", f"{M}-v", "3", "Live"),
        transition("to-archived-archiving", f"{M}-v", "3", "Archived", archive=True),
        transition("to-none", f"{M}-v", "4", "None"),
        transition("missing-version", f"{M}-v", "9", "Staging"),
        transition("missing-model", f"{M}-nope", "1", "Staging"),
        post(
            "transition-archive-not-bool",
            "model-versions/transition-stage",
            {"name": f"{M}-v", "version": "1", "stage": "None", "archive_existing_versions": "yes"},
        ),
        post(
            "transition-empty-stage",
            "model-versions/transition-stage",
            {"name": f"{M}-v", "version": "1", "stage": "", "archive_existing_versions": False},
        ),
        post(
            "transition-no-archive-flag",
            "model-versions/transition-stage",
            {"name": f"{M}-v", "version": "4", "stage": "None"},
        ),
        get_model("get-model-staged", f"{M}-v"),
        post("latest", "registered-models/get-latest-versions", {"name": f"{M}-v"}),
        post(
            "latest-stages",
            "registered-models/get-latest-versions",
            {"name": f"{M}-v", "stages": ["production", "None"]},
        ),
        post(
            "latest-bad-stage",
            "registered-models/get-latest-versions",
            {"name": f"{M}-v", "stages": ["Live"]},
        ),
        post(
            "latest-stages-not-list",
            "registered-models/get-latest-versions",
            {"name": f"{M}-v", "stages": "Production"},
        ),
        post("latest-missing-model", "registered-models/get-latest-versions", {"name": f"{M}-no"}),
        get("latest-get", "registered-models/get-latest-versions", {"name": f"{M}-v"}),
        get(
            "latest-get-stages",
            "registered-models/get-latest-versions",
            {"name": f"{M}-v", "stages": ["Staging", "Archived"]},
        ),
        get("download-uri", "model-versions/get-download-uri", {"name": f"{M}-v", "version": "1"}),
        get(
            "download-uri-missing",
            "model-versions/get-download-uri",
            {"name": f"{M}-v", "version": "9"},
        ),
        get(
            "download-uri-not-int",
            "model-versions/get-download-uri",
            {"name": f"{M}-v", "version": "x"},
        ),
        post(
            "set-tag",
            "model-versions/set-tag",
            {"name": f"{M}-v", "version": "1", "key": "k", "value": "v"},
        ),
        post(
            "overwrite-tag",
            "model-versions/set-tag",
            {"name": f"{M}-v", "version": "1", "key": "k", "value": "w"},
        ),
        post(
            "set-tag-missing",
            "model-versions/set-tag",
            {"name": f"{M}-v", "version": "9", "key": "k", "value": "v"},
        ),
        post(
            "set-tag-not-int",
            "model-versions/set-tag",
            {"name": f"{M}-v", "version": "x", "key": "k", "value": "v"},
        ),
        post(
            "set-tag-bad-key",
            "model-versions/set-tag",
            {"name": f"{M}-v", "version": "1", "key": "a//b", "value": "v"},
        ),
        post(
            "set-tag-long-value",
            "model-versions/set-tag",
            {"name": f"{M}-v", "version": "1", "key": "k", "value": "v" * 5001},
        ),
        get_version("get-tagged", f"{M}-v", "1"),
        delete(
            "delete-tag",
            "model-versions/delete-tag",
            {"name": f"{M}-v", "version": "1", "key": "k"},
        ),
        delete(
            "delete-tag-absent",
            "model-versions/delete-tag",
            {"name": f"{M}-v", "version": "1", "key": "k"},
        ),
        delete(
            "delete-tag-missing",
            "model-versions/delete-tag",
            {"name": f"{M}-v", "version": "9", "key": "k"},
        ),
        delete("delete-v2", "model-versions/delete", {"name": f"{M}-v", "version": "2"}),
        delete("delete-v2-again", "model-versions/delete", {"name": f"{M}-v", "version": "2"}),
        get_version("get-deleted", f"{M}-v", "2"),
        get(
            "download-uri-deleted",
            "model-versions/get-download-uri",
            {"name": f"{M}-v", "version": "2"},
        ),
        transition("transition-deleted", f"{M}-v", "2", "Staging"),
        get_model("get-model-after-delete", f"{M}-v"),
        create_version("create-after-delete", f"{M}-v", "s3://bucket/new"),
        post("rename-model", "registered-models/rename", {"name": f"{M}-v", "new_name": f"{M}-w"}),
        get_version("get-after-rename", f"{M}-w", "1"),
        get_version("get-old-name-after-rename", f"{M}-v", "1"),
        get_model("get-model-renamed", f"{M}-w"),
        delete("delete-model", "registered-models/delete", {"name": f"{M}-w"}),
        get_version("get-version-of-deleted-model", f"{M}-w", "1"),
        create_model("recreate-model", f"{M}-w"),
        create_version("create-in-recreated", f"{M}-w"),
    ],
)

ALIASES = Scenario(
    "registry-aliases",
    doc="aliases: set, move, read, delete, reserved and malformed names",
    steps=[
        create_model("create-model", f"{M}-al"),
        create_version("create-v1", f"{M}-al"),
        create_version("create-v2", f"{M}-al"),
        post(
            "set", "registered-models/alias", {"name": f"{M}-al", "alias": "champ", "version": "1"}
        ),
        post(
            "set-second",
            "registered-models/alias",
            {"name": f"{M}-al", "alias": "b-side", "version": "1"},
        ),
        post(
            "set-on-v2",
            "registered-models/alias",
            {"name": f"{M}-al", "alias": "Zeta", "version": "2"},
        ),
        get("get-by-alias", "registered-models/alias", {"name": f"{M}-al", "alias": "champ"}),
        get_version("get-v1", f"{M}-al", "1"),
        get_model("get-model", f"{M}-al"),
        post(
            "move", "registered-models/alias", {"name": f"{M}-al", "alias": "champ", "version": "2"}
        ),
        get("get-moved", "registered-models/alias", {"name": f"{M}-al", "alias": "champ"}),
        get("get-unknown-alias", "registered-models/alias", {"name": f"{M}-al", "alias": "nope"}),
        get(
            "get-alias-missing-model",
            "registered-models/alias",
            {"name": f"{M}-no", "alias": "champ"},
        ),
        get("get-alias-latest", "registered-models/alias", {"name": f"{M}-al", "alias": "latest"}),
        post(
            "set-latest",
            "registered-models/alias",
            {"name": f"{M}-al", "alias": "Latest", "version": "1"},
        ),
        post(
            "set-version-like",
            "registered-models/alias",
            {"name": f"{M}-al", "alias": "v2", "version": "1"},
        ),
        post(
            "set-bad-chars",
            "registered-models/alias",
            {"name": f"{M}-al", "alias": "a b", "version": "1"},
        ),
        post(
            "set-too-long",
            "registered-models/alias",
            {"name": f"{M}-al", "alias": "a" * 256, "version": "1"},
        ),
        post(
            "set-empty", "registered-models/alias", {"name": f"{M}-al", "alias": "", "version": "1"}
        ),
        post(
            "set-missing-version",
            "registered-models/alias",
            {"name": f"{M}-al", "alias": "x", "version": "9"},
        ),
        post(
            "set-version-not-int",
            "registered-models/alias",
            {"name": f"{M}-al", "alias": "x", "version": "x"},
        ),
        post(
            "set-missing-model",
            "registered-models/alias",
            {"name": f"{M}-no", "alias": "x", "version": "1"},
        ),
        post("set-no-version", "registered-models/alias", {"name": f"{M}-al", "alias": "x"}),
        delete("delete", "registered-models/alias", {"name": f"{M}-al", "alias": "b-side"}),
        delete("delete-again", "registered-models/alias", {"name": f"{M}-al", "alias": "b-side"}),
        delete(
            "delete-missing-model", "registered-models/alias", {"name": f"{M}-no", "alias": "x"}
        ),
        delete("delete-reserved", "registered-models/alias", {"name": f"{M}-al", "alias": "v1"}),
        delete("delete-version-v2", "model-versions/delete", {"name": f"{M}-al", "version": "2"}),
        get(
            "get-alias-of-deleted-version",
            "registered-models/alias",
            {"name": f"{M}-al", "alias": "champ"},
        ),
        get_model("get-model-final", f"{M}-al"),
    ],
)


def _search_setup():
    steps = []
    for i, (group, stage) in enumerate(
        [("red", "Production"), ("blue", None), ("red", "Staging"), ("Red", None)]
    ):
        name = f"{M}-s{i}"
        steps.append(create_model(f"create-s{i}", name, tags=[{"key": "group", "value": group}]))
        steps.append(
            create_version(
                f"create-s{i}-v1",
                name,
                f"s3://bucket/s{i}",
                run_id=f"run{i}",
                tags=[{"key": "group", "value": group}],
            )
        )
        steps.append(create_version(f"create-s{i}-v2", name, f"s3://other/s{i}", run_id="shared"))
        if stage:
            steps.append(transition(f"stage-s{i}", name, "1", stage))
    steps.append(create_model("create-upper", "REG-${u}-upper"))
    return steps


def search_models(step: str, filter: str | None = None, **query) -> Step:
    query = {"filter": f"name LIKE '{M}%'" if filter is None else filter, **query}
    return get(step, "registered-models/search", query)


def search_versions(step: str, filter: str | None = None, **query) -> Step:
    query = {"filter": f"name LIKE '{M}%'" if filter is None else filter, **query}
    return get(step, "model-versions/search", query)


SEARCH = Scenario(
    "registry-search",
    doc="registered-models/search and model-versions/search: filters, ordering, paging",
    steps=[
        *_search_setup(),
        search_models("models-all"),
        search_models("models-ilike", f"name ILIKE '{M}%'"),
        search_models("models-eq", f"name = '{M}-s1'"),
        search_models("models-neq", f"name != '{M}-s1' AND name LIKE '{M}%'"),
        search_models("models-tag", f"tags.group = 'red' AND name LIKE '{M}%'"),
        search_models("models-tag-ilike", f"tag.`group` ILIKE 'RED' AND name LIKE '{M}%'"),
        search_models(
            "models-two-conditions-one-tag",
            f"tags.group LIKE 'r%' AND tags.group != 'Red' AND name LIKE '{M}%'",
        ),
        search_models("models-attribute-prefix", f"attribute.name = '{M}-s2'"),
        search_models("models-double-quoted", f'name = "{M}-s2"'),
        search_models("models-none", f"name = '{M}-none'"),
        search_models("models-order-desc", order_by=["name DESC"]),
        search_models("models-order-timestamp", order_by=["timestamp DESC"]),
        search_models(
            "models-order-last-updated", order_by=["last_updated_timestamp ASC", "name DESC"]
        ),
        search_models("models-page-1", max_results=2),
        search_models("models-page-2", max_results=2, page_token="eyJvZmZzZXQiOiAyfQ=="),
        search_models("models-page-last", max_results=2, page_token="eyJvZmZzZXQiOiA0fQ=="),
        search_models("models-max-zero", max_results=0),
        search_models("models-max-too-big", max_results=1001),
        search_models("models-max-negative", max_results=-1),
        search_models("models-max-not-int", max_results="many"),
        search_models("models-bad-token", page_token="not-a-token"),
        search_models("models-bad-comparator", f"name > '{M}'"),
        search_models("models-bad-tag-comparator", "tags.group > 'a'"),
        search_models("models-bad-attribute", "creation_timestamp > 1"),
        search_models("models-bad-entity", "metrics.acc > 1"),
        search_models("models-in-list", f"name IN ('{M}-s1')"),
        search_models("models-number-value", "name = 5"),
        search_models("models-unquoted", "name = abc"),
        search_models("models-or", f"name = '{M}-s1' OR name = '{M}-s2'"),
        search_models("models-garbage", "garbage"),
        search_models("models-bad-order-key", order_by=["creation_timestamp"]),
        search_models("models-bad-order-direction", order_by=["name sideways"]),
        search_models("models-duplicate-order", order_by=["timestamp", "last_updated_timestamp"]),
        search_versions("versions-all"),
        search_versions("versions-model", f"name = '{M}-s0'"),
        search_versions("versions-run-id", f"run_id = 'run1' AND name LIKE '{M}%'"),
        search_versions(
            "versions-run-id-in", f"run_id IN ('run1', 'RUN2', 'run3') AND name LIKE '{M}%'"
        ),
        search_versions("versions-source", f"source_path LIKE 's3://other/%' AND name LIKE '{M}%'"),
        search_versions("versions-number", f"version_number >= 2 AND name LIKE '{M}%'"),
        search_versions("versions-number-string", f"version_number = '1' AND name LIKE '{M}%'"),
        search_versions("versions-tag", f"tags.group = 'red' AND name LIKE '{M}%'"),
        search_versions("versions-order-version", order_by=["version_number ASC", "name DESC"]),
        search_versions("versions-order-created", order_by=["creation_timestamp DESC"]),
        search_versions("versions-page-1", max_results=3),
        search_versions("versions-page-2", max_results=3, page_token="eyJvZmZzZXQiOiAzfQ=="),
        search_versions("versions-max-zero", max_results=0),
        search_versions("versions-max-too-big", max_results=200001),
        search_versions("versions-bad-comparator", "name > 'a'"),
        search_versions("versions-number-like", "version_number LIKE '1'"),
        search_versions("versions-name-in", "name IN ('a')"),
        search_versions("versions-not-in", "run_id NOT IN ('a')"),
        search_versions("versions-name-number", "name = 5"),
        search_versions("versions-bad-attribute", "current_stage = 'None'"),
        search_versions("versions-bad-order-key", order_by=["timestamp"]),
        search_versions("versions-order-tag", order_by=["tags.group"]),
        search_versions("versions-order-metric", order_by=["metrics.acc"]),
        search_versions("versions-duplicate-order", order_by=["name", "name DESC"]),
    ],
)

SCENARIOS = [MODELS, VERSIONS, ALIASES, SEARCH]


# Deliberate differences from 2.7.1 in these scenarios, in the form of divergences.py (which
# holds them once moved there; until then scenarios/__init__.py adds them to its list).
