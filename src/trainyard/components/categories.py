"""The designer's palette groups: Azure ML Studio's module categories, in Studio's order.

A component's own ``category`` is the catalogue's short one (``Data``, ``Train``, ``Score``);
Studio splits and names them differently (Import Data is "Data Input and Output", Cross Validate
Model is "Model Scoring and Evaluation"), and users coming from Studio look for its names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from trainyard.components.base import Component, catalogue

if TYPE_CHECKING:
    from trainyard.components.command import CommandComponent

STUDIO_CATEGORIES = (
    "Data Input and Output",
    "Data Transformation",
    "Machine Learning Algorithms",
    "Model Training",
    "Model Scoring and Evaluation",
    "Python Language",
    "Text Analytics",
)
REGISTERED = "Registered components"  # the workspace's own command components, after Studio's
_BY_CATEGORY = {
    "Data": "Data Transformation",
    "Initialize Model": "Machine Learning Algorithms",
    "Train": "Model Training",
    "Score": "Model Scoring and Evaluation",
    "Evaluate": "Model Scoring and Evaluation",
    "Model": "Data Input and Output",
    "Text Analytics": "Text Analytics",
    "Python Language": "Python Language",
}
_BY_NAME = {
    "import-data": "Data Input and Output",
    "cross-validate-model": "Model Scoring and Evaluation",
}


def studio_category(comp: Component) -> str:
    """The Studio category ``comp`` is listed under; a catalogue category Studio lacks keeps its name."""
    return _BY_NAME.get(comp.name) or _BY_CATEGORY.get(comp.category, comp.category)


def grouped_catalogue(registered: Sequence[CommandComponent] = ()) -> list[dict[str, Any]]:
    """Every catalogue module's schema, grouped by Studio category in Studio's order (then any
    other category by name), then the ``registered`` command components' (the same shape, with
    ``kind: command``); empty groups are left out."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for comp in catalogue().values():
        groups.setdefault(studio_category(comp), []).append(comp.schema())
    order = {name: i for i, name in enumerate(STUDIO_CATEGORIES)}
    names = sorted(groups, key=lambda n: (order.get(n, len(order)), n))
    listed = [{"name": name, "components": groups[name]} for name in names]
    if registered:
        listed.append({"name": REGISTERED, "components": [c.schema() for c in registered]})
    return listed
