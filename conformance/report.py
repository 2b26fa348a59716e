"""The report: per row, the documented status, the observed verdict and the evidence.

`build` turns the scenario outcomes into a JSON-ready dict; `markdown` renders it in the seed
page's layout (Method | Documented | Observed | Comments, one table per seed table) followed by
the evidence for every row that is not Yes and the wire check per operation.
"""

from __future__ import annotations

import importlib.metadata
from collections import Counter

from conformance import resources
from conformance.target import Target
from conformance.verdict import NOT_APPLICABLE, NOT_RUN, YES, YES_WITH_CAVEAT, verdict

TABLE_TITLES = {
    "tracking": "MLflow client methods",
    "registry": "Other MlflowClient methods",
}


def documented(row: dict, dialect: str) -> tuple[str, str]:
    """(status, comments) the chosen dialect documents for a row; stock MLflow: every row Yes."""
    if dialect == "mlflow":
        return YES, ""
    doc = row["documented"][dialect]
    return doc["status"], doc.get("comments", "")


def documented_restrictions(row: dict, dialect: str) -> list[str]:
    """The caveats a dialect documents for a row that limit what the client may do."""
    return [
        c["id"]
        for c in row.get("caveats", [])
        if c.get("dialect") == dialect and c["kind"] in ("restriction", "ignored_argument")
    ]


def build(
    outcomes: list[dict],
    target: Target,
    server_version: str | None,
    started: str,
    prefix: str,
    wire: dict,
    exchanges: int,
    cleanup_problems: list[str],
) -> dict:
    """The JSON report."""
    client = importlib.metadata.version("mlflow")
    caveat_text = {cid: c["text"] for cid, c in resources.caveats().items()}
    rows = []
    for row in resources.rows():
        mine = [o for o in outcomes if o["row"] == row["id"]]
        core = [o for o in mine if o["caveat"] is None]
        probes = [o for o in mine if o["caveat"] is not None]
        observed = verdict([o["passed"] for o in core], [o["passed"] for o in probes])
        doc_status, doc_comments = documented(row, target.dialect)
        probed = {o["caveat"] for o in probes}
        restrictions = documented_restrictions(row, target.dialect)
        rows.append(
            {
                "id": row["id"],
                "method": row["method"],
                "table": row["table"],
                "documented": doc_status,
                "documented_comments": doc_comments,
                "observed": observed,
                # None when the row's scenarios were not run (deselected).
                "matches": None
                if observed in (NOT_RUN, NOT_APPLICABLE)
                else observed == doc_status,
                "core": [_scenario(o) for o in core],
                "probes": [{**_scenario(o), "caveat": o["caveat"]} for o in probes],
                "caveats_observed": [
                    {"id": o["caveat"], "text": caveat_text[o["caveat"]]}
                    for o in probes
                    if o["passed"] is False
                ],
                "caveats_not_probed": [
                    c["id"] for c in row.get("caveats", []) if c["id"] not in probed
                ],
                # The documentation limits the method yet labels the row Yes: by the verdict
                # rule, a server that behaves as documented is Yes with caveat there.
                "documented_restrictions_in_yes_row": restrictions if doc_status == YES else [],
            }
        )
    counts = Counter(r["observed"] for r in rows)
    return {
        "target": target.url,
        "embedded": target.embedded,
        "dialect": target.dialect,
        "server_version": server_version,
        "client": f"mlflow {client}",
        "date": started,
        "prefix": prefix,
        # False when some rows had no scenario run (a -k selection, a single file ...).
        "full_run": NOT_RUN not in counts,
        "summary": {
            "rows": len(rows),
            "verdicts": {
                s: counts.get(s, 0) for s in (*resources.STATUSES, NOT_APPLICABLE, NOT_RUN)
            },
            "mismatches": [r["id"] for r in rows if r["matches"] is False],
            "exchanges": exchanges,
            "wire_violations": sum(v["count"] for op in wire.values() for v in op["violations"]),
        },
        "rows": rows,
        "matrix": [matrix_cell(client, r) for r in rows],
        "wire": wire,
        "cleanup_problems": cleanup_problems,
    }


def matrix_cell(client: str, row: dict) -> dict:
    """One cell of the client-version matrix: a row's verdict with one client version, and
    the evidence of every scenario that failed."""
    failing = [sc for sc in [*row["core"], *row["probes"]] if sc["passed"] is False]
    return {
        "client": client,
        "method": row["method"],
        "row": row["id"],
        "documented": row["documented"],
        "observed": row["observed"],
        "evidence": [
            {"scenario": sc["scenario"], "caveat": sc.get("caveat"), **(sc["evidence"] or {})}
            for sc in failing
        ],
    }


def _scenario(o: dict) -> dict:
    return {
        "scenario": o["name"],
        "description": o["doc"],
        "passed": o["passed"],
        "evidence": o["evidence"],
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def comments(row: dict) -> str:
    """The Comments cell: the documented comment, observed caveats, failing scenarios, and any
    mismatch."""
    parts = [f"Documented: {row['documented_comments']}"] if row["documented_comments"] else []
    if row["observed"] == YES_WITH_CAVEAT:
        observed = [f"`{c['id']}` ({c['text']})" for c in row["caveats_observed"]]
        parts.append("Caveats observed: " + "; ".join(observed))
    elif row["observed"] not in (YES, NOT_RUN, NOT_APPLICABLE):
        failing = [c["description"] for c in row["core"] if c["passed"] is False]
        parts.append("Fails: " + "; ".join(failing) + ". See evidence.")
    if row["caveats_not_probed"]:
        parts.append("Not probed: " + ", ".join(f"`{c}`" for c in row["caveats_not_probed"]))
    if row["matches"] is False:
        note = ""
        if row["documented_restrictions_in_yes_row"]:
            ids = ", ".join(f"`{c}`" for c in row["documented_restrictions_in_yes_row"])
            note = f"; the documentation itself states {ids} for this row"
        parts.append(f"**Differs from the documented status ({row['documented']}){note}.**")
    return " ".join(parts)


def evidence_lines(row: dict) -> list[str]:
    """Markdown items for each failing scenario of a row: the call, the error, the exchange."""
    lines = []
    for sc in [*row["core"], *row["probes"]]:
        if sc["passed"] is not False:
            continue
        what = f"probe `{sc['caveat']}`" if "caveat" in sc else "core"
        ev = sc["evidence"] or {}
        lines.append(f"- {what}: {sc['description']} (`{sc['scenario']}`)")
        if ev.get("call"):
            lines.append(f"  - call: `{ev['call']}`")
        lines.append(f"  - error: {_cell(ev.get('error') or '')}")
        if ev.get("exchange"):
            lines.append(f"  - HTTP: `{ev['exchange']}`")
    return lines


def heading(report: dict, title: str, client: str) -> list[str]:
    """The report's title and who was judged, how, with which client(s), when."""
    version = f" (answers /version: {report['server_version']})" if report["server_version"] else ""
    return [
        f"# {title}",
        "",
        f"- Server: `{report['target']}`{version}"
        + (" — the embedded reference server" if report["embedded"] else ""),
        f"- Dialect (documented column): `{report['dialect']}`",
        client,
        f"- Date: {report['date']}",
    ]


def markdown(report: dict) -> str:
    """The human report."""
    s = report["summary"]
    lines = [
        *heading(report, "MLflow client compatibility", f"- Client: {report['client']}"),
        "- Verdicts: " + ", ".join(f"{k}: {v}" for k, v in s["verdicts"].items() if v),
        f"- Rows that differ from the documented status: {len(s['mismatches'])}"
        + (" (" + ", ".join(f"`{m}`" for m in s["mismatches"]) + ")" if s["mismatches"] else ""),
        f"- HTTP exchanges checked against the spec: {s['exchanges']}, "
        f"violations: {s['wire_violations']}",
        f"- Everything the suite created is named `{report['prefix']}…` and was deleted "
        "after each scenario"
        + (
            f" ({len(report['cleanup_problems'])} clean-up problems, listed at the end)"
            if report["cleanup_problems"]
            else ""
        ),
    ]
    if not report["full_run"]:
        lines.append("- Some scenarios were deselected: rows without results read `Not run`.")
    for table, title in TABLE_TITLES.items():
        lines += ["", f"## {title}", "", "| Method | Documented | Observed | Comments |"]
        lines.append("|---|---|---|---|")
        for row in report["rows"]:
            if row["table"] != table:
                continue
            observed = row["observed"] if row["matches"] is not False else f"**{row['observed']}**"
            lines.append(
                f"| `{row['method']}` | {row['documented']} | {observed} | {_cell(comments(row))} |"
            )
    evidence_rows = [
        r for r in report["rows"] if r["observed"] not in (YES, NOT_RUN, NOT_APPLICABLE)
    ]
    if evidence_rows:
        lines += ["", "## Evidence", ""]
        for row in evidence_rows:
            lines.append(f"### `{row['method']}` — {row['observed']}")
            lines.append("")
            lines += evidence_lines(row)
            lines.append("")
    lines += ["", "## Wire check against spec/mlflow-2.7.1.yaml", ""]
    lines += ["| Operation | Exchanges | Violations |", "|---|---|---|"]
    for op, data in report["wire"].items():
        n = sum(v["count"] for v in data["violations"])
        lines.append(f"| `{_cell(op)}` | {data['exchanges']} | {n} |")
    violating = {op: d for op, d in report["wire"].items() if d["violations"]}
    if violating:
        lines += ["", "### Violations", ""]
        for op, data in violating.items():
            for v in data["violations"]:
                what = _cell(v["violation"])
                lines.append(f"- `{_cell(op)}` ×{v['count']}: {what} — e.g. `{v['example']}`")
    if report["cleanup_problems"]:
        lines += ["", "## Clean-up problems", ""]
        lines += [f"- {_cell(p)}" for p in report["cleanup_problems"]]
    return "\n".join(lines) + "\n"


def summary_lines(report: dict) -> list[str]:
    """The terminal summary: one line per row, then the totals."""
    out = [f"target {report['target']} · dialect {report['dialect']} · {report['client']}"]
    width = max(len(r["method"]) for r in report["rows"])
    for row in report["rows"]:
        mark = "" if row["matches"] is not False else f"   (documented: {row['documented']})"
        caveats = ", ".join(c["id"] for c in row["caveats_observed"])
        extra = f" [{caveats}]" if caveats and row["observed"] == YES_WITH_CAVEAT else ""
        out.append(f"  {row['method']:<{width}}  {row['observed']}{extra}{mark}")
    s = report["summary"]
    out.append(
        "verdicts: "
        + ", ".join(f"{k} {v}" for k, v in s["verdicts"].items() if v)
        + f" · differ from documented: {len(s['mismatches'])}"
        + f" · wire violations: {s['wire_violations']} in {s['exchanges']} exchanges"
    )
    if report["cleanup_problems"]:
        out.append(f"clean-up problems: {len(report['cleanup_problems'])} (see the report)")
    return out
