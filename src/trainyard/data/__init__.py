"""Data assets: named, versioned, hash-checked data in the workspace, and the lineage of runs."""
