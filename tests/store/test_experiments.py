"""Experiments: create/get/by-name/delete/restore/rename/tags/search, as mlflow 2.7.1."""

from __future__ import annotations

import pytest

from server.errors import MlflowError


def error(call, *args, **kwargs) -> MlflowError:
    with pytest.raises(MlflowError) as info:
        call(*args, **kwargs)
    return info.value


def test_default_experiment_exists(store):
    exp = store.get_experiment("0")
    assert exp["name"] == "Default"
    assert exp["artifact_location"] == "mlflow-artifacts:/0"
    assert exp["lifecycle_stage"] == "active"
    assert "tags" not in exp
    assert isinstance(exp["creation_time"], int)


def test_create_assigns_sequential_ids_and_default_location(store):
    assert store.create_experiment("a") == "1"
    assert store.create_experiment("b", artifact_location="s3://bucket/x") == "2"
    a, b = store.get_experiment("1"), store.get_experiment("2")
    assert list(a) == [
        "experiment_id",
        "name",
        "artifact_location",
        "lifecycle_stage",
        "last_update_time",
        "creation_time",
    ]
    assert a["artifact_location"] == "mlflow-artifacts:/1"
    assert b["artifact_location"] == "s3://bucket/x"


def test_create_with_tags_and_get_by_name(store):
    exp_id = store.create_experiment("tagged", tags=[{"key": "k", "value": "v"}])
    exp = store.get_experiment_by_name("tagged")
    assert exp["experiment_id"] == exp_id
    assert exp["tags"] == [{"key": "k", "value": "v"}]


def test_create_errors(store):
    store.create_experiment("dup")
    e = error(store.create_experiment, "dup")
    assert e.error_code == "RESOURCE_ALREADY_EXISTS"
    assert e.message.startswith("Experiment(name=dup) already exists.")
    assert error(store.create_experiment, "").message == "Invalid experiment name: ''"
    assert error(store.create_experiment, None).error_code == "INVALID_PARAMETER_VALUE"
    e = error(store.create_experiment, "x", artifact_location="runs:/abc")
    assert e.error_code == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("bad_id", ["999", "abc", "-1", "99999999999999999999999"])
def test_get_missing(store, bad_id):
    e = error(store.get_experiment, bad_id)
    assert e.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert e.message == f"No Experiment with id={bad_id} exists"


def test_get_by_name_missing(store):
    e = error(store.get_experiment_by_name, "nope")
    assert (e.error_code, e.message) == (
        "RESOURCE_DOES_NOT_EXIST",
        "Could not find experiment with name 'nope'",
    )


def test_delete_and_restore_cascade_to_runs(store, exp_id):
    r1 = store.create_run(exp_id)["info"]["run_id"]
    r2 = store.create_run(exp_id)["info"]["run_id"]
    store.delete_run(r2)
    store.delete_experiment(exp_id)
    assert store.get_experiment(exp_id)["lifecycle_stage"] == "deleted"
    assert store.get_run(r1)["info"]["lifecycle_stage"] == "deleted"
    # deleted experiments can't be deleted again, nor get runs, tags or names
    assert error(store.delete_experiment, exp_id).error_code == "RESOURCE_DOES_NOT_EXIST"
    e = error(store.create_run, exp_id)
    assert (
        e.message
        == f"The experiment {exp_id} must be in the 'active' state. Current state is deleted."
    )
    assert error(store.set_experiment_tag, exp_id, "k", "v").error_code == "INVALID_PARAMETER_VALUE"
    e = error(store.rename_experiment, exp_id, "new")
    assert (e.error_code, e.message) == (
        "INVALID_PARAMETER_VALUE",
        "Cannot rename a non-active experiment.",
    )
    store.restore_experiment(exp_id)
    # as 2.7.1: restoring the experiment restores every run, even one deleted before
    assert store.get_run(r1)["info"]["lifecycle_stage"] == "active"
    assert store.get_run(r2)["info"]["lifecycle_stage"] == "active"
    assert error(store.restore_experiment, exp_id).error_code == "RESOURCE_DOES_NOT_EXIST"


def test_rename(store, exp_id):
    store.create_experiment("other")
    before = store.get_experiment(exp_id)["last_update_time"]
    store.rename_experiment(exp_id, "renamed")
    exp = store.get_experiment(exp_id)
    assert exp["name"] == "renamed" and exp["last_update_time"] >= before
    assert error(store.rename_experiment, exp_id, "other").error_code == "BAD_REQUEST"
    assert error(store.rename_experiment, "404", "x").error_code == "RESOURCE_DOES_NOT_EXIST"


def test_set_experiment_tag_upserts_and_validates(store, exp_id):
    store.set_experiment_tag(exp_id, "k", "v1")
    store.set_experiment_tag(exp_id, "k", "v2")
    assert store.get_experiment(exp_id)["tags"] == [{"key": "k", "value": "v2"}]
    assert error(store.set_experiment_tag, exp_id, "k", "x" * 5001).message.startswith(
        "Tag value 'xxx"
    )
    assert error(store.set_experiment_tag, exp_id, "a/../b", "v").message.startswith(
        "Invalid tag name: 'a/../b'."
    )
    assert error(store.set_experiment_tag, "77", "k", "v").error_code == "RESOURCE_DOES_NOT_EXIST"


def test_search_experiments_view_types_filters_order_paging(store):
    ids = [store.create_experiment(f"e{i}", tags=[{"key": "n", "value": str(i)}]) for i in range(5)]
    store.delete_experiment(ids[0])
    names = lambda exps: [e["name"] for e in exps]  # noqa: E731
    active, token = store.search_experiments()
    assert token is None
    # default order: creation_time DESC, experiment_id ASC
    assert set(names(active)) == {"Default", "e1", "e2", "e3", "e4"}
    assert names(store.search_experiments(view_type="DELETED_ONLY")[0]) == ["e0"]
    assert len(store.search_experiments(view_type="ALL")[0]) == 6
    got, _ = store.search_experiments(filter_string="name LIKE 'e%'", order_by=["name DESC"])
    assert names(got) == ["e4", "e3", "e2", "e1"]
    got, _ = store.search_experiments(filter_string="name ILIKE 'E_'", order_by=["name"])
    assert names(got) == ["e1", "e2", "e3", "e4"]
    got, _ = store.search_experiments(filter_string="tags.n = '3'")
    assert names(got) == ["e3"]
    got, _ = store.search_experiments(filter_string="tag.n != '3' AND name != 'e1'")
    assert sorted(names(got)) == ["e2", "e4"]
    got, _ = store.search_experiments(
        filter_string="creation_time >= 0", order_by=["experiment_id"]
    )
    assert names(got)[0] == "Default"
    page1, token = store.search_experiments(max_results=2, order_by=["name"])
    assert names(page1) == ["Default", "e1"] and token == "eyJvZmZzZXQiOiAyfQ=="
    page2, token = store.search_experiments(max_results=2, order_by=["name"], page_token=token)
    assert names(page2) == ["e2", "e3"]
    page3, token = store.search_experiments(max_results=2, order_by=["name"], page_token=token)
    assert names(page3) == ["e4"] and token is None
    assert page1[1]["tags"] == [{"key": "n", "value": "1"}]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_results": 0}, "Invalid value for max_results. It must be a positive integer"),
        ({"max_results": 50001}, "Invalid value for max_results. It must be at most 50000"),
        ({"filter_string": "name > 'a'"}, "Invalid comparator for string attribute: >"),
        ({"filter_string": "creation_time LIKE '1'"}, "Expected numeric value type"),
        ({"filter_string": "metrics.a > 1"}, "Invalid entity type 'metrics'"),
        ({"order_by": ["tags.a"]}, "Invalid order_by entity: tag"),
        ({"order_by": ["lifecycle_stage"]}, "Invalid attribute key 'lifecycle_stage'"),
        ({"page_token": "notatoken"}, "Invalid page token"),
    ],
)
def test_search_experiments_errors(store, kwargs, message):
    e = error(store.search_experiments, **kwargs)
    assert e.error_code == "INVALID_PARAMETER_VALUE"
    assert e.message.startswith(message), e.message
