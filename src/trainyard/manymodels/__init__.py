"""Many models: one model per partition of a table, trained with AutoML or a script."""
