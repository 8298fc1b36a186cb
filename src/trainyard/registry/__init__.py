"""The model registry: named, versioned models with aliases and lineage to their runs."""

from trainyard.registry.model import Model, parse_model_ref
from trainyard.registry.uri import resolve_uri

__all__ = ["Model", "parse_model_ref", "resolve_uri"]
