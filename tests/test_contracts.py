"""Each dialect's contract: the GitLab dialect's is written to spec/ and served as it is."""

from __future__ import annotations

import yaml

from server.contract import Contract
from server.dialects.gitlab_rules import PUBLIC_OPERATIONS
from tools import contracts


def test_the_gitlab_contract_in_spec_is_up_to_date():
    assert contracts.main(["--check"]) == 0


def test_the_gitlab_contract_holds_exactly_what_the_dialect_serves():
    document = yaml.safe_load(contracts.GITLAB.read_text(encoding="utf-8"))
    gitlab = Contract(document)
    assert {op.operation_id for op in gitlab.operations} == PUBLIC_OPERATIONS
    stock = Contract.load(contracts.STOCK)
    assert len(stock.operations) > len(gitlab.operations)
    request = document["components"]["schemas"]["CreateModelVersionRequest"]
    assert "source" not in request.get("required", ())
    links = [
        link["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        for response in operation.get("responses", {}).values()
        for link in (response.get("links") or {}).values()
    ]
    assert links and set(links) <= PUBLIC_OPERATIONS
