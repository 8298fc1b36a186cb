"""The estimators behind the learners: Studio parameter values in, a scikit-learn or LightGBM
estimator out. Imports are local so listing the catalogue does not load every library."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def scaled(params: dict[str, Any], estimator: Any) -> Any:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    scaler = {"min-max": MinMaxScaler, "z-score": StandardScaler}.get(params["type_of_normalizer"])
    return Pipeline([("normalize", scaler()), ("learner", estimator)]) if scaler else estimator


def logistic(p: dict[str, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression

    l1, l2 = p["l1_regularization_weight"], p["l2_regularization_weight"]
    total = l1 + l2
    return LogisticRegression(
        C=1.0 / total if total > 0 else float("inf"),
        l1_ratio=l1 / total if total > 0 else 0.0,
        solver="saga" if l1 > 0 else "lbfgs",
        tol=p["optimization_tolerance"],
        max_iter=p["maximum_number_of_iterations"],
        random_state=p["random_number_seed"],
    )


def boosted(regression: bool) -> Callable[[dict[str, Any]], Any]:
    def build(p: dict[str, Any]) -> Any:
        import lightgbm

        cls = lightgbm.LGBMRegressor if regression else lightgbm.LGBMClassifier
        return cls(
            num_leaves=p["maximum_number_of_leaves_per_tree"],
            min_child_samples=p["minimum_number_of_samples_per_leaf_node"],
            learning_rate=p["learning_rate"],
            n_estimators=p["number_of_trees_constructed"],
            random_state=p["random_number_seed"],
            verbose=-1,
        )

    return build


def forest(regression: bool) -> Callable[[dict[str, Any]], Any]:
    def build(p: dict[str, Any]) -> Any:
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        cls = RandomForestRegressor if regression else RandomForestClassifier
        return cls(
            n_estimators=p["number_of_decision_trees"],
            max_depth=p["maximum_depth_of_the_decision_trees"],
            min_samples_leaf=p["minimum_number_of_samples_per_leaf_node"],
            bootstrap=p["resampling_method"] == "bagging",
            random_state=p["random_number_seed"],
        )

    return build


def neural(regression: bool) -> Callable[[dict[str, Any]], Any]:
    def build(p: dict[str, Any]) -> Any:
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        cls = MLPRegressor if regression else MLPClassifier
        network = cls(
            hidden_layer_sizes=(p["number_of_hidden_nodes"],),
            solver="sgd",
            learning_rate_init=p["learning_rate"],
            momentum=p["momentum"],
            max_iter=p["number_of_learning_iterations"],
            random_state=p["random_number_seed"],
        )
        if regression:  # gradient descent on a label in its own units diverges; learn it standardised
            from sklearn.compose import TransformedTargetRegressor
            from sklearn.preprocessing import StandardScaler

            network = TransformedTargetRegressor(regressor=network, transformer=StandardScaler())
        return scaled(p, network)

    return build


def svm(p: dict[str, Any]) -> Any:
    from sklearn.linear_model import SGDClassifier

    # modified Huber is the hinge loss smoothed, so the SVM also gives probabilities
    learner = SGDClassifier(
        loss="modified_huber",
        alpha=p["lambda"],
        max_iter=p["number_of_iterations"],
        random_state=p["random_number_seed"],
    )
    return scaled({"type_of_normalizer": "z-score" if p["normalize_features"] else "none"}, learner)


def linear(p: dict[str, Any]) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(alpha=p["l2_regularization_weight"], fit_intercept=p["include_intercept_term"])


def poisson(p: dict[str, Any]) -> Any:
    from sklearn.linear_model import PoissonRegressor

    return PoissonRegressor(
        alpha=p["l2_regularization_weight"],
        tol=p["optimization_tolerance"],
        max_iter=p["maximum_number_of_iterations"],
    )


def bayesian(p: dict[str, Any]) -> Any:
    from sklearn.linear_model import BayesianRidge

    return BayesianRidge(lambda_init=p["regularization_weight"])


def kmeans(p: dict[str, Any]) -> Any:
    from sklearn.cluster import KMeans
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import Normalizer

    kmeans = KMeans(
        n_clusters=p["number_of_centroids"],
        init=p["initialization"],
        max_iter=p["iterations"],
        n_init=1,
        random_state=p["random_number_seed"],
    )
    # k-means on unit-length rows clusters by cosine similarity
    return (
        Pipeline([("unit_length", Normalizer()), ("learner", kmeans)]) if p["metric"] == "cosine" else kmeans
    )


def pca_anomaly(p: dict[str, Any]) -> Any:
    from trainyard.components.pca_anomaly import PcaAnomalyDetector

    return PcaAnomalyDetector(
        n_components=p["number_of_components_to_use_in_pca"],
        oversampling=p["oversampling_parameter_for_randomized_pca"],
        normalize=p["enable_input_feature_mean_normalization"],
        contamination=p["fraction_of_anomalies"],
        random_state=p["random_number_seed"],
    )


def one_class_svm(p: dict[str, Any]) -> Any:
    from sklearn.svm import OneClassSVM

    return scaled({"type_of_normalizer": "z-score"}, OneClassSVM(nu=p["nu"], tol=p["epsilon"], gamma="scale"))


def isolation_forest(p: dict[str, Any]) -> Any:
    from sklearn.ensemble import IsolationForest

    return IsolationForest(
        n_estimators=p["number_of_trees"],
        max_samples=p["number_of_samples_per_tree"],
        random_state=p["random_number_seed"],
    )
