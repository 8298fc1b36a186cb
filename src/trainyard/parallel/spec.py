"""A parallel job as the command job that runs it: ``python -m trainyard.parallel.runner …``.

``trainyard job submit -f parallel.yml`` reads a ``type: parallel`` file through
``jobs.spec.load_job``; a pipeline's parallel step and Python callers use
``parallel_command_job``. Either way the result is an ordinary ``CommandJob``: its worker
materialises the input, runs the runner in the task's environment and uploads the output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import CommandJob, InputValue, OutputSpec, make_job, problems
from trainyard.parallel.settings import ParallelSettings, command_fields

__all__ = ["ParallelSettings", "parallel_command_job"]


def parallel_command_job(
    settings: ParallelSettings | Mapping[str, Any],
    inputs: Mapping[str, InputValue | Mapping[str, Any]],
    outputs: Mapping[str, OutputSpec | Mapping[str, Any] | None] | None = None,
    **job: Any,
) -> CommandJob:
    """The command job that runs ``settings`` over ``inputs[settings.input_data]``.

    ``settings``: the parallel keys of Azure's parallel job (``input_data``, ``mini_batch_size``,
    ``partition_keys``, ``mini_batch_error_threshold``, ``max_concurrency_per_instance``,
    ``retry_settings``, ``logging_level``, ``task``), as a model or a mapping. ``inputs`` and
    ``outputs``: as a command job's (``task.append_row_to`` names one of the outputs).
    ``job``: any other command job field (``experiment_name``, ``display_name``, ``compute``,
    ``timeout``, ``max_retries``, ``tags``…). Relative paths are kept as given (``load_job``
    resolves a file's against the file). A mistake is one ``InvalidInputError`` line.
    """
    if not isinstance(settings, ParallelSettings):
        try:
            settings = ParallelSettings.model_validate(dict(settings))
        except ValidationError as exc:
            raise InvalidInputError(
                f"the parallel settings are not valid: {problems(exc, 'settings')}"
            ) from None
    outputs = outputs or {}
    fields = command_fields(settings, inputs, outputs)
    return make_job(**{**job, "inputs": dict(inputs), "outputs": dict(outputs), **fields})
