"""How a scoring worker process is told what to serve (kept apart so supervisors need not import FastAPI)."""

ENV_MODEL = "TRAINYARD_SERVE_MODEL"
ENV_NAME = "TRAINYARD_SERVE_NAME"
ENV_VERSION = "TRAINYARD_SERVE_VERSION"
ENV_KEYS = "TRAINYARD_SERVE_KEYS"
ENV_TRUST = "TRAINYARD_SERVE_TRUST"
ENV_ENTRY = "TRAINYARD_SERVE_ENTRY_SCRIPT"
ENV_TIMEOUT = "TRAINYARD_SERVE_REQUEST_TIMEOUT"
ENV_WORKSPACE = "TRAINYARD_SERVE_WORKSPACE"  # a many-models group's workspace, where its models are
ENV_MAX_MODELS = "TRAINYARD_SERVE_MAX_MODELS_IN_MEMORY"  # set: serve the name's many-models group
