"""Names nothing has yet, where a taken one would end what a case is for.

Experiment and registered-model names are unique (an `x-mlflow-rule`: a taken one is refused
with RESOURCE_ALREADY_EXISTS or BAD_REQUEST). Two kinds of case lose everything to it:

- The stateful phase's chains start with a create (an experiment, a registered model), and every
  operation the spec's links lead to waits on it. schemathesis draws a create's name from the
  names earlier answers held about half the time (its pool of response values, which this phase
  always uses) and from the spec's example a fifth of the time: names taken already. There, a
  schema-valid create takes a name no request took.
- Renames in the other phases: hypothesis sends a generated `new_name` again and again, and every
  time after the first the name is taken. There, a schema-valid rename whose new name an earlier
  case of the operation sent takes one no request took; the first case with each name is sent as
  generated.
"""

from __future__ import annotations

import secrets
import typing as t
from itertools import count

from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import TestPhase

# Operation -> the body field that names what it creates or renames to.
CREATES = {"createExperiment": "name", "createRegisteredModel": "name"}
RENAMES = {"updateExperiment": "new_name", "renameRegisteredModel": "new_name"}
# Names no earlier run against the same server took.
_TOKEN = secrets.token_hex(4)
_numbers = count()
_sent: dict[str, set[str]] = {}


def fresh_name() -> str:
    return f"fuzz-name-{_TOKEN}-{next(_numbers)}"


def _taken(operation_id: str, phase: TestPhase, name: t.Any) -> bool:
    """Whether a case of `operation_id` in `phase` would send a name that is taken."""
    if phase == TestPhase.STATEFUL:
        return operation_id in CREATES
    if operation_id not in RENAMES:
        return False
    sent = _sent.setdefault(operation_id, set())
    if name in sent:
        return True
    sent.add(name)
    return False


def with_fresh_name(case: t.Any) -> t.Any:
    """`case`, schema-valid, with a fresh name where the one it has is taken (see above)."""
    meta = case.meta
    operation_id = case.operation.definition.raw.get("operationId")
    field = CREATES.get(operation_id) or RENAMES.get(operation_id)
    if (
        field is None
        or meta is None
        or meta.generation.mode != GenerationMode.POSITIVE
        or not isinstance(case.body, dict)
        or not isinstance(case.body.get(field), str)
    ):
        return case
    if _taken(operation_id, meta.phase.name, case.body[field]):
        case.body = {**case.body, field: fresh_name()}
    return case
