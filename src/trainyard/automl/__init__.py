"""Automated ML: featurization, a learner portfolio searched cost-aware, ensembles, forecasting.

The parent run's process is ``trainyard.automl.driver``; trials are evaluated in a pool of
worker processes and recorded as child runs directly through the store.

``classification``, ``regression`` and ``forecasting`` are AutoML steps of a ``@ty.pipeline``
function, as Azure's ``from azure.ai.ml import automl`` (``pipelines/dsl.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trainyard.pipelines.dsl import AutoMLStepCall


def classification(**keys: Any) -> AutoMLStepCall:
    """A classification AutoML step: ``training_data``, ``target_column_name``, ``primary_metric``…"""
    from trainyard.pipelines.dsl import automl_step

    return automl_step("classification", **keys)


def regression(**keys: Any) -> AutoMLStepCall:
    """A regression AutoML step (the keys of ``classification``)."""
    from trainyard.pipelines.dsl import automl_step

    return automl_step("regression", **keys)


def forecasting(**keys: Any) -> AutoMLStepCall:
    """A forecasting AutoML step; its series settings with ``.set_forecast_settings(...)``."""
    from trainyard.pipelines.dsl import automl_step

    return automl_step("forecasting", **keys)
