"""``trainyard model serve``: resolve a model, check it loads, then run uvicorn workers on it."""

from __future__ import annotations

import os
from pathlib import Path

from trainyard.errors import InvalidInputError
from trainyard.models.format import load
from trainyard.serving import env as serve_env

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def resolve_model(ref: str, trust: bool) -> tuple[str, str, str, bool]:
    """(folder, name, version, trusted) for a registry reference or a model folder."""
    if Path(ref).is_dir():
        folder = Path(ref).resolve()
        load(folder, trust=trust)  # fail here, with the reason, not in every worker
        return str(folder), folder.name, "1", trust
    from trainyard.registry import Model
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    model = Model(ws, ref)
    loaded = load(f"models:/{model.name}/{model.version}", workspace=ws)
    return str(loaded.path), model.name, str(model.version), True


def serve(
    ref: str,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    keys: list[str] | None = None,
    trust: bool = False,
    insecure: bool = False,
    entry_script: str | None = None,
) -> None:
    if host not in LOOPBACK and not keys and not insecure:
        raise InvalidInputError(
            f"serving on {host} without a key would let anyone on the network call the model; "
            "give --key, or --insecure if that is what you want"
        )
    folder, name, version, trusted = resolve_model(ref, trust)
    if entry_script and not Path(entry_script).is_file():
        raise InvalidInputError(f"entry script {entry_script} does not exist")
    os.environ.update(
        {
            serve_env.ENV_MODEL: folder,
            serve_env.ENV_NAME: name,
            serve_env.ENV_VERSION: version,
            serve_env.ENV_KEYS: ",".join(keys or []),
            serve_env.ENV_TRUST: "1" if trusted else "0",
            serve_env.ENV_ENTRY: str(Path(entry_script).resolve()) if entry_script else "",
        }
    )
    import uvicorn

    uvicorn.run(
        "trainyard.serving.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
