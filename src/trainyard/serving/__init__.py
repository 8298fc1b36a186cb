"""Scoring: a FastAPI server speaking MLflow's, Azure ML's and the Open Inference protocols."""
