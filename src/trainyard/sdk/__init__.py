"""The public Python API (re-exported from ``trainyard``)."""
