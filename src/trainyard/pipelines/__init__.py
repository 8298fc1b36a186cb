"""Pipelines: DAGs of command steps and catalogue components (Azure ML CLI v2 pipeline jobs)."""

from trainyard.pipelines.graph import Graph, build_graph
from trainyard.pipelines.spec import PipelineJob, load_pipeline

__all__ = ["Graph", "PipelineJob", "build_graph", "load_pipeline"]
