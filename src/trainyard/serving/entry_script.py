"""Azure-style entry scripts: a ``score.py`` with ``init()`` and ``run(...)``, imported from a file.

One loader for online scoring (``run(raw_data)``, the request body) and batch scoring
(``run(mini_batch)``, file paths or a DataFrame), so both see the same contract: the model's
folder in ``AZUREML_MODEL_DIR`` before the script is imported, ``init()`` once, then ``run``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

from trainyard.errors import InvalidInputError

MODEL_DIR = "AZUREML_MODEL_DIR"


def load_entry_script(
    path: str | os.PathLike[str], model_dir: str | os.PathLike[str], what: str = "raw_data"
) -> ModuleType:
    """The script at ``path`` imported and initialised; ``run({what})`` is what callers call."""
    if not Path(path).is_file():
        raise InvalidInputError(f"entry script {path} does not exist")
    os.environ[MODEL_DIR] = str(model_dir)
    spec = importlib.util.spec_from_file_location("trainyard_entry_script", path)
    if spec is None or spec.loader is None:
        raise InvalidInputError(f"entry script {path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise InvalidInputError(f"entry script {path} has no run({what}) function")
    if callable(getattr(module, "init", None)):
        module.init()
    return module
