"""The search filter and order_by grammar of mlflow 2.7.1 (mlflow/utils/search_utils.py), parsed
without sqlparse into plain clause dicts: {"type", "key", "comparator", "value"}.

Entity types are normalised to "metric", "parameter", "tag", "attribute", "dataset"; keys lose
their backticks/double quotes; comparators are upper-cased ("NOT IN" for the pair).
"""

from __future__ import annotations

import ast
import re
import shlex

from server.errors import invalid

from .validation import validate_filter_clause_count

METRIC, PARAM, TAG, ATTRIBUTE, DATASET = "metric", "parameter", "tag", "attribute", "dataset"
IDENTIFIERS = [METRIC, PARAM, TAG, ATTRIBUTE, DATASET]
_ALIASES = {
    "metric": METRIC,
    "metrics": METRIC,
    "parameter": PARAM,
    "parameters": PARAM,
    "param": PARAM,
    "params": PARAM,
    "tag": TAG,
    "tags": TAG,
    "attribute": ATTRIBUTE,
    "attr": ATTRIBUTE,
    "attributes": ATTRIBUTE,
    "run": ATTRIBUTE,
    "dataset": DATASET,
    "datasets": DATASET,
}
RUN_NUMERIC_ATTRIBUTES = {"start_time", "end_time", "created", "Created"}
RUN_SEARCH_ATTRIBUTES = {
    "run_id",
    "run_name",
    "user_id",
    "status",
    "start_time",
    "end_time",
    "artifact_uri",
    "created",
    "Created",
    "run name",
    "Run name",
    "Run Name",
}
RUN_ORDER_ATTRIBUTES = RUN_SEARCH_ATTRIBUTES - {"run name", "Run name", "Run Name"}
DATASET_ATTRIBUTES = {"name", "digest", "context"}
EXPERIMENT_SEARCH_ATTRIBUTES = {"name", "creation_time", "last_update_time"}
EXPERIMENT_ORDER_ATTRIBUTES = {"name", "experiment_id", "creation_time", "last_update_time"}
EXPERIMENT_NUMERIC_ATTRIBUTES = {"creation_time", "last_update_time"}

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.`"]))
  | (?P<ident>(?:[A-Za-z_][\w]*|`[^`]*`|"[^"]*")(?:\.(?:[\w]+|`[^`]*`|"[^"]*"))*)
  | (?P<str>'(?:''|\\.|[^'\\])*')
  | (?P<op><=|>=|!=|<>|==|=|<|>)
  | (?P<list>\((?:[^()'"]|'(?:''|\\.|[^'\\])*'|"[^"]*")*\))
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_KEYWORDS = {"AND", "OR", "NOT", "IN", "LIKE", "ILIKE"}


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    for mo in _TOKEN.finditer(text):
        kind = mo.lastgroup
        value = mo.group()
        if kind == "ws":
            continue
        if kind == "ident" and value.upper() in _KEYWORDS:
            kind = "kw"
        out.append((kind, value))
    return out


def _is_quoted(value: str, quote: str) -> bool:
    return len(value) >= 2 and value.startswith(quote) and value.endswith(quote)


def _strip_quotes(value: str, expect_quoted: bool = False) -> str:
    if _is_quoted(value, "'") or _is_quoted(value, '"'):
        return value[1:-1]
    if expect_quoted:
        raise invalid(
            "Parameter value is either not quoted or unidentified quote "
            f"types used for string value {value}. Use either single or double "
            "quotes."
        )
    return value


def _trim_backticks(value: str) -> str:
    return value[1:-1] if _is_quoted(value, "`") else value


def entity_type(name: str) -> str:
    name = _trim_backticks(name)
    if name not in _ALIASES:
        raise invalid(f"Invalid entity type '{name}'. Valid values are {IDENTIFIERS}")
    return _ALIASES[name]


def identifier(text: str, valid_attributes, experiments: bool = False) -> tuple[str, str]:
    """'metrics.`a b`' -> ("metric", "a b"); a bare key is an attribute."""
    parts = text.split(".", 1)
    if len(parts) == 1:
        kind, key = ATTRIBUTE, parts[0]
    else:
        if experiments and parts[0] not in ("attribute", "tag", "tags"):
            raise invalid(
                f"Invalid entity type '{parts[0]}'. "
                "Valid entity types are ('attribute', 'tag', 'tags')"
            )
        kind, key = entity_type(parts[0]), parts[1]
    key = _trim_backticks(_strip_quotes(key))
    if kind == ATTRIBUTE and key not in valid_attributes:
        raise invalid(
            f"Invalid attribute key '{key}' specified. Valid keys are '{set(valid_attributes)}'"
        )
    if kind == DATASET and key not in DATASET_ATTRIBUTES:
        raise invalid(
            f"Invalid dataset key '{key}' specified. Valid keys are '{DATASET_ATTRIBUTES}'"
        )
    return kind, key


def _string_list(text: str) -> list[str]:
    inner = text[1:-1].strip()
    if not inner:
        raise invalid(
            "While parsing a list in the query,"
            " expected a non-empty list of string values, but got empty list"
        )
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        value = None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, tuple | list) or not all(isinstance(i, str) for i in items):
        raise invalid(
            "While parsing a list in the query,"
            " expected a non-empty list of string values, but got ill-formed list."
        )
    return list(items)


def _value(kind: str, key: str, token: tuple[str, str], numeric_attributes) -> object:
    tkind, text = token
    quoted_or_word = tkind in ("str", "ident")
    if kind == METRIC:
        if tkind != "num":
            raise invalid(f"Expected numeric value type for metric. Found {text}")
        return text
    if kind in (PARAM, TAG):
        if quoted_or_word:
            return _strip_quotes(text, expect_quoted=True)
        raise invalid(
            f"Expected a quoted string value for {kind} (e.g. 'my-value'). Got value {text}"
        )
    if kind == ATTRIBUTE:
        if key in numeric_attributes:
            if tkind != "num":
                raise invalid(
                    f"Expected numeric value type for numeric attribute: {key}. Found {text}"
                )
            return text
        if quoted_or_word:
            return _strip_quotes(text, expect_quoted=True)
        if tkind == "list":
            if key != "run_id":
                raise invalid(
                    "Only the 'run_id' attribute supports comparison with a list of quoted "
                    "string values."
                )
            # 2.7.1 drops ids that are not all lower case (run ids are lower-case hex).
            return [i for i in _string_list(text) if i.islower()]
        raise invalid(f"Expected a quoted string value for attributes. Got value {text}")
    # dataset
    if quoted_or_word:
        return _strip_quotes(text, expect_quoted=True)
    if tkind == "list":
        return [i for i in _string_list(text) if i.islower()]
    raise invalid(f"Expected a quoted string value for dataset attributes. Got value {text}")


def parse_filter(filter_string, experiments: bool = False) -> list[dict]:
    """AND-ed comparisons -> clause dicts. ``experiments`` selects the experiment grammar."""
    valid = EXPERIMENT_SEARCH_ATTRIBUTES if experiments else RUN_SEARCH_ATTRIBUTES
    numeric = EXPERIMENT_NUMERIC_ATTRIBUTES if experiments else RUN_NUMERIC_ATTRIBUTES

    def clause(text: str, comparator: str, token: tuple[str, str]) -> dict:
        key_type, key = identifier(text, valid, experiments)
        value = _value(key_type, key, token, numeric)
        return {"type": key_type, "key": key, "comparator": comparator, "value": value}

    return _parse_clauses(filter_string, clause)


def _parse_clauses(filter_string, clause) -> list[dict]:
    """The AND-ed `<identifier> <comparator> <value>` triples of a filter, each made into a
    clause dict by ``clause(identifier_text, comparator, value_token)``."""
    if not filter_string:
        return []
    tokens = _tokens(filter_string)
    clauses, i = [], 0
    while i < len(tokens):
        start = i
        kind, text = tokens[i]
        if kind != "ident":
            raise _invalid_clause(tokens, start)
        i += 1
        if _is_kw(tokens, i, "NOT"):
            if not _is_kw(tokens, i + 1, "IN"):
                raise _invalid_clause(tokens, start)
            comparator = "NOT IN"
            i += 2
        elif i < len(tokens) and (
            tokens[i][0] == "op"
            or (tokens[i][0] == "kw" and tokens[i][1].upper() in ("LIKE", "ILIKE", "IN"))
        ):
            comparator = tokens[i][1].upper()
            i += 1
        else:
            raise _invalid_clause(tokens, start)
        if i >= len(tokens) or tokens[i][0] not in ("str", "ident", "num", "list"):
            raise _invalid_clause(tokens, start)
        if (comparator in ("IN", "NOT IN")) != (tokens[i][0] == "list"):
            raise _invalid_clause(tokens, start)
        clauses.append(clause(text, comparator, tokens[i]))
        validate_filter_clause_count(clauses)
        i += 1
        if i < len(tokens):
            if _is_kw(tokens, i, "AND") and i + 1 < len(tokens):
                i += 1
            else:
                raise _invalid_clause(tokens, i)
    return clauses


# ---- the model registry's grammar (SearchModelUtils, SearchModelVersionUtils) ---------------

REGISTERED_MODEL_SEARCH_ATTRIBUTES = {"name"}
MODEL_VERSION_SEARCH_ATTRIBUTES = {"name", "version_number", "run_id", "source_path"}
MODEL_VERSION_NUMERIC_ATTRIBUTES = {
    "version_number",
    "creation_timestamp",
    "last_updated_timestamp",
}
MODEL_VERSION_ORDER_ATTRIBUTES = {
    "name",
    "version_number",
    "creation_timestamp",
    "last_updated_timestamp",
}
REGISTERED_MODEL_ORDER_KEYS = {"name", "timestamp", "last_updated_timestamp"}


def parse_registry_filter(filter_string, valid_attributes, numeric_attributes=()) -> list[dict]:
    """A registered-model or model-version filter -> clause dicts of type "attribute" or "tag".
    Values: str, a list of str (run_id IN), or a number (numeric attributes)."""

    def clause(text: str, comparator: str, token: tuple[str, str]) -> dict:
        kind, key = identifier(text, valid_attributes, experiments=True)
        tkind, value = token
        if tkind in ("str", "ident"):
            value = _strip_quotes(value, expect_quoted=True)
        elif kind == TAG:
            raise invalid(
                f"Expected a quoted string value for {kind} (e.g. 'my-value'). Got value {value}"
            )
        elif tkind == "list":
            if key != "run_id":
                raise invalid(
                    "Only the 'run_id' attribute supports comparison with a list of quoted "
                    "string values."
                )
            value = [i for i in _string_list(value) if i.islower()]
        elif numeric_attributes:  # a number, where model versions take one
            if key not in numeric_attributes:
                raise invalid(
                    f"Only the '{set(numeric_attributes)}' attributes support comparison with "
                    "numeric values."
                )
            value = number_value(value)
        else:
            raise invalid(
                "Expected a quoted string value or a list of quoted string values for "
                f"attributes. Got value {value}"
            )
        return {"type": kind, "key": key, "comparator": comparator, "value": value}

    return _parse_clauses(filter_string, clause)


def number_value(text: str) -> int | float:
    """A numeric filter value as MLflow reads it: an int where it is one, else a float."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def split_order_by(clause) -> tuple[str, bool]:
    """'name DESC' -> ("name", False): the shape every order_by clause is parsed into first."""
    if not isinstance(clause, str) or not clause.strip():
        raise invalid(f"Invalid order_by clause '{clause}'. Could not be parsed.")
    try:
        tokens = shlex.split(clause.replace("`", '"'))
    except ValueError:
        raise invalid(f"Invalid order_by clause '{clause}'. Could not be parsed.") from None
    if len(tokens) > 2 or not tokens:
        raise invalid(f"Invalid order_by clause '{clause}'. Could not be parsed.")
    ascending = True
    if len(tokens) == 2:
        direction = tokens[1].lower()
        if direction not in ("asc", "desc"):
            raise invalid(f"Invalid ordering key in order_by clause '{clause}'.")
        ascending = direction == "asc"
    return tokens[0].strip(), ascending


def _is_kw(tokens, i: int, word: str) -> bool:
    return i < len(tokens) and tokens[i][0] == "kw" and tokens[i][1].upper() == word


def _invalid_clause(tokens, start: int):
    rest = " ".join(text for _, text in tokens[start:])
    return invalid(f"Invalid clause(s) in filter string: '{rest}'")


def parse_order_by(clause: str, valid_attributes, experiments: bool = False):
    """'metrics.`a b` DESC' -> (type, key, ascending)."""
    field, ascending = split_order_by(clause)
    kind, key = identifier(field, valid_attributes, experiments)
    return kind, key, ascending


def translate_key_alias(key: str) -> str:
    if key in ("created", "Created"):
        return "start_time"
    if key in ("run name", "Run name", "Run Name"):
        return "run_name"
    return key
