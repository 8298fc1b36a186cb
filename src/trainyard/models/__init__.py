"""Model format and flavours: ``ty.models.save(model, path)`` and ``ty.models.load(uri)``."""

from trainyard.models.format import LoadedModel, load, save
from trainyard.models.signature import Signature, infer_signature

__all__ = ["LoadedModel", "Signature", "infer_signature", "load", "save"]
