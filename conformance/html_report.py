"""The matrix as one self-contained HTML file: inline CSS and script, no external asset, readable
offline. Each cell holds its verdict and, folded, its evidence; checkboxes filter the rows by
the verdicts they show."""

from __future__ import annotations

import html

from conformance import resources
from conformance.matrix_report import cells, versions
from conformance.report import TABLE_TITLES
from conformance.verdict import NOT_APPLICABLE, NOT_RUN

VERDICTS = (*resources.STATUSES, NOT_APPLICABLE, NOT_RUN)

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
td.v-yes { background: #e5f6e5; } td.v-yes-with-caveat { background: #fff6d6; }
td.v-partial { background: #ffe6cc; } td.v-no { background: #fbdada; }
td.v-not-applicable, td.v-not-run { background: #eee; color: #666; }
td.differs { outline: 2px solid #b00; outline-offset: -2px; }
details { font-size: 12px; max-width: 40em; } code { font-size: 12px; word-break: break-all; }
#filter label { margin-right: 1em; }
"""

SCRIPT = """
function applyFilter() {
  const shown = new Set([...document.querySelectorAll('#filter input:checked')].map(i => i.value));
  document.querySelectorAll('tr.row').forEach(tr => {
    const verdicts = [...tr.querySelectorAll('td[data-verdict]')].map(td => td.dataset.verdict);
    tr.hidden = !verdicts.some(v => shown.has(v));
  });
}
document.querySelectorAll('#filter input').forEach(i => i.addEventListener('change', applyFilter));
applyFilter();
"""


def _slug(verdict: str) -> str:
    return "v-" + verdict.lower().replace(" ", "-")


def _evidence(cell: dict) -> str:
    if not cell["evidence"]:
        return ""
    items = []
    for ev in cell["evidence"]:
        what = f"probe {ev['caveat']}" if ev.get("caveat") else "core"
        parts = [f"<b>{html.escape(what)}</b> <code>{html.escape(ev['scenario'])}</code>"]
        for key in ("call", "error", "exchange"):
            if ev.get(key):
                parts.append(f"{key}: <code>{html.escape(str(ev[key]))}</code>")
        items.append("<li>" + "<br>".join(parts) + "</li>")
    return f"<details><summary>evidence</summary><ul>{''.join(items)}</ul></details>"


def _cell(cell: dict | None) -> str:
    if cell is None:
        return f'<td class="{_slug(NOT_RUN)}" data-verdict="{NOT_RUN}">{NOT_RUN}</td>'
    observed = cell["observed"]
    differs = observed not in (cell["documented"], NOT_RUN, NOT_APPLICABLE)
    classes = _slug(observed) + (" differs" if differs else "")
    return (
        f'<td class="{classes}" data-verdict="{html.escape(observed)}">'
        f"{html.escape(observed)}{_evidence(cell)}</td>"
    )


def render(merged: dict) -> str:
    """The HTML report of a merged (or one-client) report."""
    clients = versions(merged)
    found = cells(merged)
    title = "MLflow client compatibility matrix"
    server = html.escape(merged["target"])
    if merged.get("server_version"):
        server += f" (answers /version: {html.escape(merged['server_version'])})"
    boxes = "".join(
        f'<label><input type="checkbox" value="{v}" checked> {v}</label>' for v in VERDICTS
    )
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title><style>{STYLE}</style></head><body>",
        f"<h1>{title}</h1>",
        "<ul>",
        f"<li>Server: <code>{server}</code></li>",
        f"<li>Dialect (documented column): <code>{html.escape(merged['dialect'])}</code></li>",
        f"<li>Clients: {html.escape(', '.join('mlflow ' + c for c in clients))}</li>",
        f"<li>Date: {html.escape(merged['date'])}</li>",
        "</ul>",
        f'<div id="filter">Show rows with a verdict: {boxes}</div>',
    ]
    header = "".join(f"<th>{html.escape(c)}</th>" for c in clients)
    for table, heading in TABLE_TITLES.items():
        out += [f"<h2>{heading}</h2>", "<table>"]
        out.append(f"<tr><th>Method</th><th>Documented</th>{header}</tr>")
        for row in merged["rows"]:
            if row["table"] != table:
                continue
            tds = "".join(_cell(found.get((row["id"], c))) for c in clients)
            out.append(
                f'<tr class="row"><td><code>{html.escape(row["method"])}</code></td>'
                f"<td>{html.escape(row['documented'])}</td>{tds}</tr>"
            )
        out.append("</table>")
    out += [f"<script>{SCRIPT}</script>", "</body></html>"]
    return "\n".join(out) + "\n"
