"""`mlflow-compat fuzz URL`: schemathesis drives spec/mlflow-2.7.1.yaml against any MLflow-speaking
server, with the settings (schemathesis.toml) and hooks (hooks.py) the project's fuzz tests use."""
