"""Differential tests: the same requests to mlflow server 2.7.1 and to the reference server.

Scenarios (scenarios/*.py) are data; harness.py replays, masks and compares them;
divergences.py lists the differences we accept on purpose. Run:
    python -m pytest tests/differential -q
MLFLOW_COMPAT_DIFF_SUBJECT=oracle compares two mlflow servers (proves the masking);
MLFLOW_COMPAT_DIFF_REPORT=diff.jsonl writes every difference found as JSON lines.
"""
