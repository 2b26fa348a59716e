"""Requests fuzzers rarely reach, over real HTTP against a reference server: each is refused with
MLflow's 4xx error and leaves storage unchanged. (Artifact paths with traversal tricks are
covered by tests/integration/test_artifact_paths.py.)"""
