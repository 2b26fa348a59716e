"""/health and /version."""

from __future__ import annotations

from starlette.responses import HTMLResponse

MLFLOW_VERSION = "2.7.1"


class ServiceHandlers:
    # Flask's default for a str response, as 2.7.1 sends both: text/html; charset=utf-8.
    def health(self):
        return HTMLResponse("OK")

    def version(self):
        return HTMLResponse(MLFLOW_VERSION)
