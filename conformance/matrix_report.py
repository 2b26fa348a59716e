"""The client-version matrix report: one verdict column per client version.

`merge` joins the per-client JSON reports (report.build's) into one: the first client's
report as the base (so every field of a one-client report is there), `clients` (each version's
summary), `matrix` (one cell per client and row) and `reports` (each client's whole report).
`markdown` renders it in the seed page's layout with one verdict column per client.
"""

from __future__ import annotations

from conformance.report import TABLE_TITLES, _cell, evidence_lines, heading
from conformance.verdict import NOT_APPLICABLE, NOT_RUN, YES


def merge(reports: dict[str, dict]) -> dict:
    """One report of several clients' reports ({client version: report}), in that order."""
    first = next(iter(reports.values()))
    return {
        **first,
        "client": ", ".join(r["client"] for r in reports.values()),
        "clients": [
            {
                "client": version,
                "summary": r["summary"],
                "prefix": r["prefix"],
                "cleanup_problems": r["cleanup_problems"],
            }
            for version, r in reports.items()
        ],
        "matrix": [cell for r in reports.values() for cell in r["matrix"]],
        "reports": reports,
    }


def as_matrix(report: dict) -> dict:
    """A merged report as it is, a one-client report as a one-column matrix."""
    if "clients" in report:
        return report
    return merge({report["client"].removeprefix("mlflow "): report})


def versions(merged: dict) -> list[str]:
    return [c["client"] for c in merged["clients"]]


def cells(merged: dict) -> dict[tuple[str, str], dict]:
    """The matrix's cells by (row id, client version)."""
    return {(c["row"], c["client"]): c for c in merged["matrix"]}


def _verdict(cell: dict | None) -> str:
    if cell is None:
        return NOT_RUN
    differs = cell["observed"] not in (cell["documented"], NOT_RUN, NOT_APPLICABLE)
    return f"**{cell['observed']}**" if differs else cell["observed"]


def _comments(row: dict, found: dict, clients: list[str]) -> str:
    parts = [f"Documented: {row['documented_comments']}"] if row["documented_comments"] else []
    for version in clients:
        cell = found.get((row["id"], version))
        if cell is None or cell["observed"] in (YES, NOT_RUN):
            continue
        if cell["observed"] == NOT_APPLICABLE:
            parts.append(f"{version}: the client has no such method.")
            continue
        failing = sorted({e.get("caveat") or e["scenario"] for e in cell["evidence"]})
        parts.append(f"{version}: " + ", ".join(f"`{f}`" for f in failing) + ".")
    return " ".join(parts)


def markdown(merged: dict) -> str:
    """The human report: the seed's tables with one verdict column per client version."""
    clients = versions(merged)
    found = cells(merged)
    title = "MLflow client compatibility matrix"
    lines = heading(merged, title, f"- Clients: {merged['client']}")
    for c in merged["clients"]:
        counts = ", ".join(f"{k}: {v}" for k, v in c["summary"]["verdicts"].items() if v)
        lines.append(
            f"- mlflow {c['client']}: {counts}; differ from documented: "
            f"{len(c['summary']['mismatches'])}; wire violations: "
            f"{c['summary']['wire_violations']} in {c['summary']['exchanges']} exchanges"
        )
    for table, title in TABLE_TITLES.items():
        lines += ["", f"## {title}", ""]
        lines.append("| Method | Documented | " + " | ".join(clients) + " | Comments |")
        lines.append("|---|---|" + "---|" * len(clients) + "---|")
        for row in merged["rows"]:
            if row["table"] != table:
                continue
            verdicts = " | ".join(_verdict(found.get((row["id"], v))) for v in clients)
            comments = _cell(_comments(row, found, clients))
            lines.append(f"| `{row['method']}` | {row['documented']} | {verdicts} | {comments} |")
    evidence = []
    for version, report in merged["reports"].items():
        for row in report["rows"]:
            if row["observed"] not in (YES, NOT_RUN, NOT_APPLICABLE):
                evidence += [f"### `{row['method']}` with mlflow {version} — {row['observed']}", ""]
                evidence += [*evidence_lines(row), ""]
    if evidence:
        lines += ["", "## Evidence", "", *evidence]
    problems = [
        f"- {c['client']}: {_cell(p)}" for c in merged["clients"] for p in c["cleanup_problems"]
    ]
    if problems:
        lines += ["", "## Clean-up problems", "", *problems]
    return "\n".join(lines).rstrip("\n") + "\n"


def summary_lines(merged: dict) -> list[str]:
    """The terminal summary: one line per row, a verdict per client."""
    clients = versions(merged)
    found = cells(merged)
    width = max(len(r["method"]) for r in merged["rows"])
    head = f"target {merged['target']} · dialect {merged['dialect']}"
    out = [f"{head} · clients {', '.join(clients)}"]
    for row in merged["rows"]:
        verdicts = " | ".join(
            f"{v}: {found[(row['id'], v)]['observed'] if (row['id'], v) in found else NOT_RUN}"
            for v in clients
        )
        out.append(f"  {row['method']:<{width}}  {verdicts}")
    return out
