"""``trainyard model serve``: resolve a model, check it loads, then run uvicorn workers on it."""

from __future__ import annotations

import os
from pathlib import Path

from trainyard.errors import InvalidInputError
from trainyard.models.format import fetch, has_mlmodel, load
from trainyard.serving import env as serve_env

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def resolve_model(ref: str, trust: bool, scripted: bool = False) -> tuple[str, str, str, bool]:
    """(folder, name, version, trusted) for a registry reference or a folder. The model is loaded
    here to fail with the reason, not in every worker; with an entry script (``scripted``) that
    loads it, any folder will do, and only a model directory (``MLmodel``) is loaded."""
    if Path(ref).is_dir():
        folder, name, version, trusted = Path(ref).resolve(), Path(ref).resolve().name, "1", trust
    else:
        from trainyard.registry import Model
        from trainyard.workspace import Workspace

        ws = Workspace.from_config()
        model = Model(ws, ref)
        folder = fetch(f"models:/{model.name}/{model.version}", ws, scripted=True)
        name, version, trusted = model.name, str(model.version), True
    if not scripted or has_mlmodel(folder):
        load(folder, trust=trusted)
    return str(folder), name, version, trusted


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
    if entry_script and not Path(entry_script).is_file():
        raise InvalidInputError(f"entry script {entry_script} does not exist")
    folder, name, version, trusted = resolve_model(ref, trust, scripted=bool(entry_script))
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
