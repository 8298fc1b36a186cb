"""The component catalogue: Studio-style modules (Import Data, Train Model, Score Model, …).

``catalogue()`` lists them, ``get_component(name)`` finds one, ``component(**kwargs)`` runs it in
memory and ``trainyard.components.runner.run_component`` runs it as a tracked run.
"""

from trainyard.components.base import Component, Context, Port, catalogue, component, get_component
from trainyard.components.params import REQUIRED, ComponentInputError, Param

__all__ = [
    "REQUIRED",
    "Component",
    "ComponentInputError",
    "Context",
    "Param",
    "Port",
    "catalogue",
    "component",
    "get_component",
]
