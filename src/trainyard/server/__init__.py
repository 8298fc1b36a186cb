"""The team server: REST API, auth, agents and MLflow-compatible routes over one workspace."""
