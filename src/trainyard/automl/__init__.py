"""Automated ML: featurization, a learner portfolio searched cost-aware, ensembles, forecasting.

The parent run's process is ``trainyard.automl.driver``; trials are evaluated in a pool of
worker processes and recorded as child runs directly through the store.
"""

DRIVER = ["python", "-m", "trainyard.automl.driver"]  # the command of an AutoML run (a pipeline step's too)
