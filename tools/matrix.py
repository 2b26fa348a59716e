"""Where each break begins: the boundary table of a client-version matrix report.

    python -m tools.matrix report.json [more.json ...]

reads the JSON report(s) of matrix runs (`pytest conformance --client ... --report-json`) and
prints, per server and row, each change of verdict along the client versions in order: the
last version with the earlier verdict, the first with the new one, and the first failing
call's error. A break that a later version fixes shows as two lines.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from packaging.version import Version


def boundaries(report: dict) -> list[dict]:
    """Every change of a row's verdict between consecutive client versions, in version order."""
    by_row: dict[str, dict[str, dict]] = {}
    for cell in report["matrix"]:
        if cell["observed"] != "Not run":
            by_row.setdefault(cell["row"], {})[cell["client"]] = cell
    found = []
    for row, cells in by_row.items():
        ordered = sorted(cells, key=Version)
        for before, after in zip(ordered, ordered[1:], strict=False):
            if cells[before]["observed"] == cells[after]["observed"]:
                continue
            evidence = cells[after]["evidence"] or cells[before]["evidence"]
            found.append(
                {
                    "row": row,
                    "method": cells[after]["method"],
                    "last": before,
                    "last_verdict": cells[before]["observed"],
                    "first": after,
                    "first_verdict": cells[after]["observed"],
                    "evidence": evidence[0].get("exchange") or evidence[0].get("error")
                    if evidence
                    else "",
                }
            )
    return found


def table(report: dict) -> str:
    """The boundaries of one report as a markdown table."""
    server = report["target"] + (
        f" (/version {report['server_version']})" if report.get("server_version") else ""
    )
    lines = [
        f"Server {server}, dialect {report['dialect']}, clients "
        + ", ".join(c["client"] for c in report.get("clients", [])),
        "",
        "| method | last version | verdict | first version | verdict | evidence |",
        "|---|---|---|---|---|---|",
    ]
    for b in boundaries(report):
        evidence = (b["evidence"] or "").replace("|", "\\|")[:160]
        lines.append(
            f"| `{b['method']}` | {b['last']} | {b['last_verdict']} | {b['first']} | "
            f"{b['first_verdict']} | `{evidence}` |"
        )
    if len(lines) == 4:
        lines.append("| (no verdict changes between client versions) | | | | | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.matrix", description=__doc__)
    parser.add_argument("reports", nargs="+", type=Path, help="JSON reports of matrix runs")
    args = parser.parse_args(argv)
    for path in args.reports:
        print(table(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
