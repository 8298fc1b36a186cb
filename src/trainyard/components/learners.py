"""Initialize Model: the learners, with Studio's parameter names and defaults.

Each learner is a ``Learner`` (name, task, parameters, a builder that turns parameter values into
a scikit-learn or LightGBM estimator) and one component whose output is an ``UntrainedModel``:
the learner's name, task and parameters, nothing fitted. Train Model, Tune Model
Hyperparameters and Cross-Validate Model call ``build()`` to get a fresh estimator.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainyard.components import estimators
from trainyard.components.base import Component, ComponentInputError, Context, Param, Port, component

TASKS = ("binary", "multiclass", "regression", "clustering", "anomaly_detection", "recommendation")
CLASSIFICATION = ("binary", "multiclass")
UNTRAINED_FILE = "untrained_model.json"


@dataclass(frozen=True)
class Learner:
    """A learner of the catalogue: its component's name, the task it solves and how to build it."""

    name: str
    display_name: str
    task: str
    description: str
    params: tuple[Param, ...]
    build: Callable[[dict[str, Any]], Any]


LEARNERS: dict[str, Learner] = {}


@dataclass
class UntrainedModel:
    """Studio's "untrained model": a learner and its parameter values, ready to be trained."""

    learner: str
    task: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ComponentInputError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")

    def spec(self) -> Learner:
        if self.learner not in LEARNERS:
            from trainyard.components.base import catalogue

            catalogue()  # learners defined in other modules (vowpal) register on import
        if self.learner not in LEARNERS:
            raise ComponentInputError(f"unknown learner {self.learner!r}; learners: {', '.join(LEARNERS)}")
        return LEARNERS[self.learner]

    def build(self) -> Any:
        """A fresh, unfitted estimator with these parameters."""
        return self.spec().build(self.params)

    def with_params(self, **changes: Any) -> UntrainedModel:
        """A copy with some parameters changed (validated like the component's own)."""
        by_name = {p.name: p for p in self.spec().params}
        for name in changes:
            if name not in by_name:
                raise ComponentInputError(
                    f"{self.learner} has no parameter {name!r}; parameters: {', '.join(by_name)}"
                )
        checked = {name: by_name[name].validate(value) for name, value in changes.items()}
        return UntrainedModel(self.learner, self.task, {**self.params, **checked})

    def save(self, folder: str | Path) -> Path:
        root = Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        doc = {"learner": self.learner, "task": self.task, "params": self.params}
        (root / UNTRAINED_FILE).write_text(json.dumps(doc, indent=2))
        return root

    @classmethod
    def load(cls, folder: str | Path) -> UntrainedModel:
        path = Path(folder) / UNTRAINED_FILE
        if not path.is_file():
            raise ComponentInputError(f"{folder} is not an untrained model: it has no {UNTRAINED_FILE}")
        doc = json.loads(path.read_text())
        return cls(doc["learner"], doc["task"], doc["params"])


def register(learner: Learner) -> Component:
    LEARNERS[learner.name] = learner

    def initialize(ctx: Context, **params: Any) -> dict[str, Any]:
        return {"untrained_model": UntrainedModel(learner.name, learner.task, params)}

    return component(
        name=learner.name,
        display_name=learner.display_name,
        category="Initialize Model",
        description=learner.description,
        inputs=[],
        outputs=[Port("untrained_model", "untrained_model", f"an untrained {learner.display_name} model")],
        params=list(learner.params),
    )(initialize)


# Parameters several learners share ---------------------------------------------------------
def _seed() -> Param:
    return Param("random_number_seed", "int", 0, "seed of the random number generator", min=0)


def _tolerance(default: float = 1e-7) -> Param:
    return Param("optimization_tolerance", "float", default, "stop when an iteration improves less", min=0)


def _l2(default: float) -> Param:
    return Param("l2_regularization_weight", "float", default, "L2 penalty on the weights", min=0)


def _iterations(name: str, default: int) -> Param:
    return Param(name, "int", default, "the most passes over the data", min=1)


BOOSTED = (
    Param("maximum_number_of_leaves_per_tree", "int", 20, "leaves in each tree", min=2),
    Param("minimum_number_of_samples_per_leaf_node", "int", 10, "rows needed to make a leaf", min=1),
    Param(
        "learning_rate",
        "float",
        0.2,
        "shrinkage of each tree's contribution",
        min=0,
        min_exclusive=True,
        max=1,
    ),
    Param("number_of_trees_constructed", "int", 100, "boosting rounds", min=1),
    _seed(),
)
FOREST = (
    Param(
        "resampling_method",
        "string",
        "bagging",
        "bagging (bootstrap rows) or replicate",
        choices=("bagging", "replicate"),
    ),
    Param("number_of_decision_trees", "int", 8, "trees in the forest", min=1),
    Param("maximum_depth_of_the_decision_trees", "int", 32, "the deepest a tree may grow", min=1),
    Param("minimum_number_of_samples_per_leaf_node", "int", 1, "rows needed to make a leaf", min=1),
    _seed(),
)
NEURAL = (
    Param("number_of_hidden_nodes", "int", 100, "nodes in the hidden layer", min=1),
    Param("learning_rate", "float", 0.1, "step size of gradient descent", min=0, min_exclusive=True),
    _iterations("number_of_learning_iterations", 100),
    Param("momentum", "float", 0.0, "weight of the previous step", min=0, max=1),
    Param(
        "type_of_normalizer",
        "string",
        "min-max",
        "how features are scaled first",
        choices=("min-max", "z-score", "none"),
    ),
    _seed(),
)
LOGISTIC = (
    _tolerance(),
    Param("l1_regularization_weight", "float", 0.0, "L1 penalty on the weights (sparse models)", min=0),
    _l2(1.0),
    _iterations("maximum_number_of_iterations", 100),
    _seed(),
)


_CONTAMINATION = Param(
    "fraction_of_anomalies",
    "float",
    0.05,
    "share of training rows above the threshold",
    min=0,
    max=0.5,
    min_exclusive=True,
)

for prefix, title, task in (("two-class", "Two-Class", "binary"), ("multiclass", "Multiclass", "multiclass")):
    kind = "two classes" if task == "binary" else "two or more classes"
    register(
        Learner(
            f"{prefix}-logistic-regression",
            f"{title} Logistic Regression",
            task,
            f"Logistic regression for {kind}.",
            LOGISTIC,
            estimators.logistic,
        )
    )
    register(
        Learner(
            f"{prefix}-boosted-decision-tree",
            f"{title} Boosted Decision Tree",
            task,
            f"Gradient-boosted trees (LightGBM) for {kind}.",
            BOOSTED,
            estimators.boosted(False),
        )
    )
    register(
        Learner(
            f"{prefix}-decision-forest",
            f"{title} Decision Forest",
            task,
            f"A random forest for {kind}.",
            FOREST,
            estimators.forest(False),
        )
    )
    register(
        Learner(
            f"{prefix}-neural-network",
            f"{title} Neural Network",
            task,
            f"A one-hidden-layer perceptron for {kind}.",
            NEURAL,
            estimators.neural(False),
        )
    )

register(
    Learner(
        "two-class-support-vector-machine",
        "Two-Class Support Vector Machine",
        "binary",
        "A linear SVM trained by gradient descent (smoothed hinge loss, so it also gives probabilities).",
        (
            _iterations("number_of_iterations", 100),
            Param("lambda", "float", 0.001, "L2 regularization weight", min=0, min_exclusive=True),
            Param("normalize_features", "bool", True, "scale features to zero mean and unit variance first"),
            _seed(),
        ),
        estimators.svm,
    )
)
register(
    Learner(
        "linear-regression",
        "Linear Regression",
        "regression",
        "Least squares with an L2 penalty (ridge).",
        (_l2(0.001), Param("include_intercept_term", "bool", True, "fit a constant term")),
        estimators.linear,
    )
)
register(
    Learner(
        "boosted-decision-tree-regression",
        "Boosted Decision Tree Regression",
        "regression",
        "Gradient-boosted trees (LightGBM) for a numeric label.",
        BOOSTED,
        estimators.boosted(True),
    )
)
register(
    Learner(
        "decision-forest-regression",
        "Decision Forest Regression",
        "regression",
        "A random forest for a numeric label.",
        FOREST,
        estimators.forest(True),
    )
)
register(
    Learner(
        "neural-network-regression",
        "Neural Network Regression",
        "regression",
        "A one-hidden-layer perceptron for a numeric label.",
        NEURAL,
        estimators.neural(True),
    )
)
register(
    Learner(
        "poisson-regression",
        "Poisson Regression",
        "regression",
        "A log-linear model for counts (the label must not be negative).",
        (_tolerance(1e-4), _l2(1.0), _iterations("maximum_number_of_iterations", 100)),
        estimators.poisson,
    )
)
register(
    Learner(
        "bayesian-linear-regression",
        "Bayesian Linear Regression",
        "regression",
        "Linear regression with a Gaussian prior on the weights.",
        (
            Param(
                "regularization_weight",
                "float",
                1.0,
                "precision of the prior on the weights",
                min=0,
                min_exclusive=True,
            ),
        ),
        estimators.bayesian,
    )
)
register(
    Learner(
        "k-means-clustering",
        "K-Means Clustering",
        "clustering",
        "Groups rows around k centroids.",
        (
            Param("number_of_centroids", "int", 2, "k, the number of clusters", min=2),
            Param(
                "initialization",
                "string",
                "k-means++",
                "how the first centroids are chosen",
                choices=("k-means++", "random"),
            ),
            Param(
                "metric",
                "string",
                "euclidean",
                "distance between rows and centroids",
                choices=("euclidean", "cosine"),
            ),
            _iterations("iterations", 100),
            _seed(),
        ),
        estimators.kmeans,
    )
)
register(
    Learner(
        "pca-based-anomaly-detection",
        "PCA-Based Anomaly Detection",
        "anomaly_detection",
        "Scores rows by how badly a low-rank PCA projection of normal data reconstructs them.",
        (
            Param("number_of_components_to_use_in_pca", "int", 2, "rank of the projection", min=1),
            Param(
                "oversampling_parameter_for_randomized_pca",
                "int",
                2,
                "extra components drawn by randomized PCA",
                min=1,
            ),
            Param(
                "enable_input_feature_mean_normalization",
                "bool",
                True,
                "scale features to zero mean and unit variance first",
            ),
            _CONTAMINATION,
            _seed(),
        ),
        estimators.pca_anomaly,
    )
)
register(
    Learner(
        "one-class-support-vector-machine",
        "One-Class Support Vector Machine",
        "anomaly_detection",
        "A boundary around normal data (RBF kernel); rows outside it are anomalies.",
        (
            Param(
                "nu",
                "float",
                0.1,
                "upper bound on the share of training rows outside the boundary",
                min=0,
                max=1,
                min_exclusive=True,
            ),
            Param("epsilon", "float", 0.001, "stopping tolerance", min=0, min_exclusive=True),
        ),
        estimators.one_class_svm,
    )
)
register(
    Learner(
        "isolation-forest-anomaly-detection",
        "Isolation Forest Anomaly Detection",
        "anomaly_detection",
        "Anomalies are the rows random trees isolate in few splits.",
        (
            Param("number_of_trees", "int", 100, "trees in the forest", min=1),
            Param("number_of_samples_per_tree", "int", 256, "rows drawn to grow each tree", min=2),
            _seed(),
        ),
        estimators.isolation_forest,
    )
)
