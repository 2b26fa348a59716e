"""Conformance suite: the documented MLflow client methods, row by row, against any server."""
