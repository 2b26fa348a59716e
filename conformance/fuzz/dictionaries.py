"""The fuzz dictionaries of a seeded target: schemathesis settings that draw seeded ids and names.

The settings file written here is conformance/fuzz/schemathesis.toml with, after it, one
`[dictionaries.NAME]` table per kind of seeded value and the parameters bound to each: for every
operation (`[parameters]`) or for some (`[[operations]]`). A bound parameter takes a seeded value
with its binding's probability, a generated one otherwise; schemathesis draws only the values
that fit the parameter's schema, and binds only in positive data (seeded_cases.py does the same
for the examples and coverage phases).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from conformance.fuzz.seed import Seeds

# How often an id that must name something takes a seeded one: most of the time, so that an
# operation that takes two (a model's name and version) gets a live pair often; generated ids
# name nothing, and the coverage phase and negative data try those anyway.
IDS = 0.8
# A search filter: generated filters are mostly outside the grammar (refused with 400).
FILTERS = 0.5
# A name nothing has yet: generated names are new already, and schemathesis, drawing from a
# dictionary, often draws its first entry again; the examples and coverage phases need them.
FRESH = 0.05
# Operations that delete, rename or create: they take no ids schemathesis saw in earlier answers
# (the live seeds, which the others need, are among them), only generated and seeded ones.
NO_RESPONSE_VALUES = (
    "deleteExperiment",
    "deleteRun",
    "deleteRegisteredModel",
    "deleteModelVersion",
    "deleteArtifact",
    "renameRegisteredModel",
    "createRegisteredModel",
)


@dataclass(frozen=True)
class Binding:
    """Parameters (`body.NAME`, `query.NAME`, `path.NAME`) that draw from a dictionary, in the
    operations named (every operation when there are none)."""

    dictionary: str
    parameters: tuple[str, ...]
    operation_ids: tuple[str, ...] = ()
    probability: float = IDS


def _both(name: str) -> tuple[str, ...]:
    return (f"body.{name}", f"query.{name}")


# Operations that take a registered model's name, and those that also take one of its versions.
MODEL_OPERATIONS = (
    "getRegisteredModel",
    "updateRegisteredModel",
    "setRegisteredModelTag",
    "deleteRegisteredModelTag",
    "getLatestVersions",
    "getLatestVersionsGet",
    "createModelVersion",
    "setRegisteredModelAlias",
    "deleteRegisteredModelAlias",
    "getModelVersionByAlias",
    "deleteModelVersion",
)
VERSION_OPERATIONS = (
    "updateModelVersion",
    "transitionModelVersionStage",
    "getModelVersion",
    "getModelVersionDownloadUri",
    "setModelVersionTag",
    "deleteModelVersionTag",
    "getModelVersionArtifact",
)

BINDINGS = (
    # A run to log to, read, list: every operation's run_id.
    Binding("run_ids", _both("run_id")),
    # An experiment to read, tag and start runs in.
    Binding("experiment_ids", ("body.experiment_id",), ("createRun", "setExperimentTag")),
    Binding("experiment_ids", ("query.experiment_id",), ("getExperiment",)),
    Binding("experiment_names", ("query.experiment_name",), ("getExperimentByName",)),
    # Deleting (and restoring) runs and experiments takes seeded ones of its own, always in
    # schema-valid data: the others (which schemathesis also picks from earlier answers) stay
    # active.
    Binding("runs_to_delete", ("body.run_id",), ("deleteRun", "restoreRun"), 1.0),
    Binding(
        "experiments_to_delete",
        ("body.experiment_id",),
        ("deleteExperiment", "restoreExperiment"),
        1.0,
    ),
    Binding("model_names", _both("name"), MODEL_OPERATIONS + VERSION_OPERATIONS),
    Binding("model_versions", _both("version"), VERSION_OPERATIONS + ("setRegisteredModelAlias",)),
    Binding("versions_to_delete", ("body.version",), ("deleteModelVersion",)),
    Binding("aliases", ("query.alias",), ("getModelVersionByAlias",)),
    Binding("aliases_to_delete", ("body.alias",), ("deleteRegisteredModelAlias",)),
    Binding("models_to_rename", ("body.name",), ("renameRegisteredModel",)),
    Binding("fresh_names", ("body.new_name",), ("renameRegisteredModel",), FRESH),
    Binding("fresh_names", ("body.name",), ("createRegisteredModel",), FRESH),
    # GitLab's params and tags are written once: a key no run has yet.
    Binding("fresh_names", ("body.key",), ("logParam", "setTag"), FRESH),
    Binding(
        "experiment_filters",
        _both("filter"),
        ("searchExperiments", "searchExperimentsGet"),
        FILTERS,
    ),
    Binding("run_filters", ("body.filter",), ("searchRuns",), FILTERS),
    Binding("model_filters", ("query.filter",), ("searchRegisteredModels",), FILTERS),
    Binding("model_filters", ("query.filter",), ("searchModelVersions",), FILTERS),
    Binding(
        "tag_keys",
        ("body.key",),
        ("deleteTag", "deleteRegisteredModelTag", "deleteModelVersionTag"),
    ),
    Binding("models_to_delete", ("body.name",), ("deleteRegisteredModel",)),
    Binding("model_sources", ("body.source",), ("createModelVersion",)),
    Binding("model_jsons", ("body.model_json",), ("logModel",)),
    Binding("artifact_files", ("query.path",), ("getArtifact", "getModelVersionArtifact")),
    # The artifact proxy's paths: files to read and overwrite, files to delete, folders to list.
    Binding("artifact_paths", ("path.artifact_path",), ("downloadArtifact", "uploadArtifact")),
    Binding("artifacts_to_delete", ("path.artifact_path",), ("deleteArtifact",)),
    Binding("artifact_folders", ("query.path",), ("listArtifactsProxy",)),
)


def _string(value: str) -> str:
    # A JSON string is a TOML basic string (both escape with \\, \" and \\uXXXX).
    return json.dumps(value)


def _entry(parameter: str, binding: Binding) -> str:
    return (
        f"{_string(parameter)} = {{ dictionary = {_string(binding.dictionary)}, "
        f"probability = {binding.probability} }}"
    )


def seeded_settings(base: Path, seeds: Seeds, served: frozenset[str]) -> str:
    """The base settings file's text with the seeds' dictionaries and bindings after it, for the
    operations of `served` (the target's contract)."""
    lines = [base.read_text(encoding="utf-8").rstrip(), "", "# Seeded on the target (seed.py)."]
    for name, values in sorted(seeds.values.items()):
        lines += [f"[dictionaries.{name}]", f"values = [{', '.join(map(_string, values))}]", ""]
    everywhere: list[str] = []
    # schemathesis takes an operation's settings from the first [[operations]] entry that names
    # it: one entry per operation, with all of its bindings.
    by_operation: dict[str, list[str]] = {}
    for binding in BINDINGS:
        if binding.dictionary not in seeds.values:
            continue
        entries = [_entry(p, binding) for p in binding.parameters]
        if not binding.operation_ids:
            everywhere += entries
        for operation_id in binding.operation_ids:
            if operation_id in served:
                by_operation.setdefault(operation_id, []).extend(entries)
    for operation_id in sorted(set(NO_RESPONSE_VALUES) & served):
        by_operation.setdefault(operation_id, [])
    for operation_id, entries in by_operation.items():
        lines += ["[[operations]]", f"include-operation-id = {_string(operation_id)}"]
        if entries:
            lines.append(f"parameters = {{ {', '.join(entries)} }}")
        if operation_id in NO_RESPONSE_VALUES:
            lines += [
                f"phases.{phase}.extra-data-sources.responses = false"
                for phase in ("examples", "coverage", "fuzzing")
            ]
        lines.append("")
    if everywhere:
        lines += ["[parameters]", *everywhere, ""]
    return "\n".join(lines) + "\n"
