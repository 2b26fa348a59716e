"""Hooks and fixtures of the conformance suite (defined in conformance.plugin)."""

from conformance.plugin import (  # noqa: F401
    prefix,
    pytest_addoption,
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_makereport,
    pytest_runtestloop,
    pytest_sessionfinish,
    pytest_terminal_summary,
    recorder,
    sandbox,
    target,
)
