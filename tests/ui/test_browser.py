"""MLflow 2.7.1's own web UI, served by the reference server, in headless Chromium.

The 2.7.1 client logged the data (tests/ui/conftest.py). Each test opens a page as a user
would, waits for what the page shows and asserts on the DOM (text, elements, attributes), never
on pixels; every page must load without an HTTP error. Screenshots go to the test's temporary
folder.
"""

from __future__ import annotations

import json

import pytest

from tests.ui.conftest import BIG_EXPERIMENT, EXPERIMENT, MODEL, RUN_NAMES, STEPS, TEXT

pytestmark = pytest.mark.browser

BULK = "/ajax-api/2.0/mlflow/metrics/get-history-bulk"


def by_xpath(browser, xpath: str):
    from selenium.webdriver.common.by import By

    return browser.driver.find_elements(By.XPATH, xpath)


def click(browser, xpath: str, what: str) -> None:
    """Click the first element at `xpath` once there (as the DOM sees a click: a tooltip left
    over the element by an earlier hover does not swallow it)."""
    element = browser.wait_for(lambda: by_xpath(browser, xpath), what)[0]
    browser.driver.execute_script("arguments[0].click()", element)


def no_http_errors(browser) -> list[tuple[int, str]]:
    responses = browser.responses()
    assert [r for r in responses if r[0] >= 400] == []
    return responses


def full_table(browser) -> dict[str, dict[str, str]] | None:
    """{run name: {metric or param: cell text}} of the runs table, once every cell is drawn."""
    rows: dict[str, dict[str, str]] = {}
    for cell in browser.css(".ag-cell[col-id]"):
        row = cell.find_element("xpath", "./ancestor::*[@row-index][1]").get_attribute("row-index")
        rows.setdefault(row, {})[cell.get_attribute("col-id")] = cell.text
    table = {
        cells.get("attributes.`Run Name`"): {
            col.split("`")[1]: text
            for col, text in cells.items()
            if col.startswith(("metrics.", "params."))
        }
        for cells in rows.values()
    }
    complete = len(table) == len(RUN_NAMES) and all(len(v) == 4 for v in table.values())
    return table if complete else None


def test_experiments_page_lists_the_experiments(ui_server, browser, tmp_path):
    browser.open(ui_server.url + "/#/")
    text = browser.wait_for_text("Experiments", EXPERIMENT, BIG_EXPERIMENT, "Default")
    assert "2.7.1" in text  # the UI's own version badge
    browser.screenshot(tmp_path / "experiments.png")
    no_http_errors(browser)


def test_runs_table_shows_runs_with_params_and_metrics(ui_server, browser, tmp_path):
    browser.open(f"{ui_server.url}/#/experiments/{ui_server.experiment_id}")
    browser.wait_for_text(*RUN_NAMES, "3 matching runs")
    click(browser, "//*[text()='Table']", "the Table tab")
    # 2.7.1 lists metric and param columns under "Columns"; show them all.
    click(browser, "//*[text()='Columns']", "the Columns menu")
    for column in ("accuracy", "loss", "depth", "learning_rate"):
        click(browser, f"//span[contains(@class,'tree-title')][text()='{column}']", column)
    click(browser, "//*[text()='Columns']", "the Columns menu, to close it")
    table = browser.wait_for(lambda: full_table(browser), "every value in the runs table")
    browser.screenshot(tmp_path / "runs-table.png")
    assert table == {
        # the params as logged; accuracy; loss at its last step, 1 / (12 + i)
        "alpha-run": {"learning_rate": "0.01", "depth": "3", "accuracy": "0.9", "loss": "0.083"},
        "beta-run": {"learning_rate": "0.02", "depth": "4", "accuracy": "0.91", "loss": "0.077"},
        "gamma-run": {"learning_rate": "0.03", "depth": "5", "accuracy": "0.92", "loss": "0.071"},
    }
    no_http_errors(browser)


def test_chart_view_draws_metric_history_from_get_history_bulk(ui_server, browser, tmp_path):
    browser.open(f"{ui_server.url}/#/experiments/{ui_server.experiment_id}")
    browser.wait_for_text(*RUN_NAMES)
    click(browser, "//*[text()='Chart']", "the Chart tab")
    # The loss chart: one line per run, drawn from the points get-history-bulk answered.
    lines = browser.wait_for(
        lambda: [
            plot
            for plot in browser.css(".js-plotly-plot")
            if len(plot.find_elements("css selector", "g.trace.scatter path.js-line")) == 3
        ],
        "the loss chart with a line per run",
    )
    assert len(lines) == 1
    browser.screenshot(tmp_path / "chart-view.png")
    bulk = [url for status, url in no_http_errors(browser) if BULK in url]
    assert bulk, "the chart did not call get-history-bulk"
    assert all(f"run_id={run_id}" in bulk[0] for run_id in ui_server.run_ids.values())
    assert "metric_key=loss" in bulk[0]


def test_run_page_shows_params_tags_metrics_and_a_metric_chart(ui_server, browser, tmp_path):
    run_id = ui_server.run_ids[RUN_NAMES[0]]
    browser.open(f"{ui_server.url}/#/experiments/{ui_server.experiment_id}/runs/{run_id}")
    browser.wait_for_text(RUN_NAMES[0], run_id, "Parameters (2)", "Metrics (2)", "Tags (1)")
    for section in ("Parameters", "Metrics", "Tags"):
        click(
            browser,
            f"//div[contains(@class,'ant-collapse-header')][starts-with(normalize-space(.),"
            f"'{section} (')]",
            f"the {section} section",
        )
    text = browser.wait_for_text("learning_rate", "depth", "accuracy", "loss", "team-alpha-run")
    assert "0.01" in text and "0.083" in text
    browser.screenshot(tmp_path / "run-page.png")
    no_http_errors(browser)
    # The metric's own page: its chart of every logged step.
    click(browser, "//a[normalize-space(.)='loss']", "the link to the loss chart")
    # the metric table: latest and min at the last step, max at the first
    browser.wait_for_text("Completed Runs", f"0.083 (step={STEPS - 1})", "1 (step=0)")
    # 2.7.1 draws this chart with WebGL: read the points off the plot element (plotly's data).
    points = browser.wait_for(
        lambda: browser.driver.execute_script(
            "const plot = document.querySelector('.js-plotly-plot');"
            "return plot && plot.data && plot.data.length ? plot.data[0].y : null;"
        ),
        "the loss line",
    )
    assert [round(y, 6) for y in points] == [round(1.0 / (step + 1), 6) for step in range(STEPS)]
    browser.screenshot(tmp_path / "metric-chart.png")
    no_http_errors(browser)


def test_artifacts_pane_previews_text_and_image_and_lists_the_model(ui_server, browser, tmp_path):
    run_id = ui_server.run_ids[RUN_NAMES[0]]
    base = f"{ui_server.url}/#/experiments/{ui_server.experiment_id}/runs/{run_id}/artifactPath"
    browser.open(f"{base}/notes.txt")
    browser.wait_for_text(TEXT.strip(), "Size: 30B")
    browser.screenshot(tmp_path / "artifact-text.png")
    assert any("/get-artifact?path=notes.txt" in url for _, url in no_http_errors(browser))

    browser.open(f"{base}/images/plot.png")
    # The UI fetches the file from /get-artifact and shows it from a blob: URL.
    width, height = browser.wait_for(
        lambda: browser.driver.execute_script(
            "const img = [...document.images].find(i => i.src.startsWith('blob:')"
            " && i.complete && i.naturalWidth > 0);"
            "return img ? [img.naturalWidth, img.naturalHeight] : null;"
        ),
        "the image preview, decoded",
    )
    assert (width, height) == (64, 48)
    fetched = [url for _, url in browser.responses() if "/get-artifact?" in url]
    assert any("path=images%2Fplot.png" in url for url in fetched)
    browser.screenshot(tmp_path / "artifact-image.png")
    no_http_errors(browser)

    browser.open(f"{base}/model")
    browser.wait_for_text(
        "MLmodel", "model.pkl", "requirements.txt", "MLflow Model", MODEL, "Make Predictions"
    )
    browser.screenshot(tmp_path / "artifact-model.png")
    no_http_errors(browser)


def test_registered_models_list_the_model_and_its_versions(ui_server, browser, tmp_path):
    browser.open(ui_server.url + "/#/models")
    text = browser.wait_for_text(MODEL, "Version 2", "Version 1", "Staging", "Production")
    assert "Latest version" in text
    browser.screenshot(tmp_path / "models.png")
    no_http_errors(browser)

    browser.open(f"{ui_server.url}/#/models/{MODEL}")
    browser.wait_for_text("Version 2", "Staging", "Version 1", "Production", "Active 2")
    browser.screenshot(tmp_path / "model-versions.png")
    no_http_errors(browser)

    browser.open(f"{ui_server.url}/#/models/{MODEL}/versions/1")
    browser.wait_for_text("Version 1", "Production", "Source Run", RUN_NAMES[0])
    browser.screenshot(tmp_path / "model-version-1.png")
    assert any("/model-versions/get-artifact?" in url for _, url in no_http_errors(browser))

    # 2.7.1's build keeps its aliases view behind a feature flag that is off
    # (shouldShowModelsNextUI), so the alias is read as the page's own code reads the model.
    answer = browser.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('ajax-api/2.0/mlflow/registered-models/get?name=' + arguments[0])"
        ".then(r => r.text()).then(done);",
        MODEL,
    )
    model = json.loads(answer)["registered_model"]
    assert model["aliases"] == [{"alias": "champion", "version": "1"}]
    assert {v["current_stage"] for v in model["latest_versions"]} == {"Production", "Staging"}


def test_an_experiment_with_ten_thousand_runs_opens_and_pages(ui_server, browser, tmp_path):
    browser.open(f"{ui_server.url}/#/experiments/{ui_server.big_experiment_id}")
    # Newest first, 100 to a page.
    browser.wait_for_text(BIG_EXPERIMENT, "bulk-09999", "bulk-09900", "100 matching runs")
    assert "bulk-09899" not in browser.text()
    browser.screenshot(tmp_path / "ten-thousand-runs.png")
    click(browser, "//*[normalize-space(text())='Load more']", "Load more")
    browser.wait_for_text("200 matching runs")
    # The table draws only the rows in view: scroll to its end, where the button is again.
    browser.driver.execute_script(
        "const v = document.querySelector('.ag-body-viewport'); v.scrollTop = v.scrollHeight;"
    )
    browser.wait_for_text("bulk-09800")
    click(browser, "//*[normalize-space(text())='Load more']", "Load more, again")
    browser.wait_for_text("300 matching runs")
    browser.screenshot(tmp_path / "ten-thousand-runs-paged.png")
    searches = [u for _, u in no_http_errors(browser) if "runs/search" in u]
    assert searches
