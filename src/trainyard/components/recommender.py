"""Train Recommender and Score Recommender: trainyard's stand-in for Studio's Matchbox.

Biased matrix factorisation fitted by alternating least squares (numpy + scipy, no extra
dependency): a rating is ``mean + user bias + item bias + user traits . item traits``. With
user or item feature tables, a ridge map from features to (bias, traits) is learned on the
known users/items, so a user or item never seen in training is scored from its features
(Matchbox's cold start). Scoring predicts ratings or recommends the top items per user.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin

from trainyard.components.base import ComponentInputError, Context, Param, Port, component, require_columns
from trainyard.components.model import TrainedModel
from trainyard.components.scoring import LABELS, SCORES_KEY


class MatrixFactorization(RegressorMixin, BaseEstimator):
    """Ratings from ``X = [user, item]`` columns; ``fit(X, y, user_features, item_features)``."""

    def __init__(
        self, n_traits: int = 10, n_iterations: int = 10, regularization: float = 0.1, random_state: int = 0
    ):
        self.n_traits = n_traits
        self.n_iterations = n_iterations
        self.regularization = regularization
        self.random_state = random_state

    def fit(
        self,
        X: pd.DataFrame,
        y: Any,
        user_features: pd.DataFrame | None = None,
        item_features: pd.DataFrame | None = None,
    ) -> MatrixFactorization:
        from scipy.sparse import csr_matrix

        users, items = pd.factorize(X.iloc[:, 0]), pd.factorize(X.iloc[:, 1])
        self.users_, self.items_ = users[1].tolist(), items[1].tolist()
        ratings = np.asarray(y, dtype=float)
        self.mean_ = float(ratings.mean())
        shape = (len(self.users_), len(self.items_))
        by_user = csr_matrix((ratings - self.mean_, (users[0], items[0])), shape=shape)
        by_item = by_user.T.tocsr()
        rng = np.random.default_rng(self.random_state)
        user_f = np.hstack([np.zeros((shape[0], 1)), rng.normal(scale=0.1, size=(shape[0], self.n_traits))])
        item_f = np.hstack([np.zeros((shape[1], 1)), rng.normal(scale=0.1, size=(shape[1], self.n_traits))])
        for _ in range(self.n_iterations):
            user_f = self._solve(by_user, item_f)
            item_f = self._solve(by_item, user_f)
        self.user_factors_, self.item_factors_ = user_f, item_f
        self.user_map_ = _feature_map(user_features, self.users_, user_f, self.regularization)
        self.item_map_ = _feature_map(item_features, self.items_, item_f, self.regularization)
        return self

    def _solve(self, ratings: Any, other: np.ndarray) -> np.ndarray:
        """One half-step of ALS: each row's (bias, traits) given the other side's, in closed form."""
        out = np.zeros((ratings.shape[0], other.shape[1]))
        penalty = self.regularization * np.eye(other.shape[1])
        for row in range(ratings.shape[0]):
            start, end = ratings.indptr[row], ratings.indptr[row + 1]
            cols = ratings.indices[start:end]
            target = ratings.data[start:end] - other[cols, 0]  # the other side's bias
            design = np.hstack([np.ones((len(cols), 1)), other[cols, 1:]])
            solved = np.linalg.solve(design.T @ design + penalty * max(len(cols), 1), design.T @ target)
            out[row] = solved
        return out

    def _factors(
        self, ids: pd.Series, known: list[Any], factors: np.ndarray, fmap: dict, feats: Any
    ) -> np.ndarray:
        """(bias, traits) per id: learned for known ids, from features for new ones, else zero."""
        at = pd.Index(known).get_indexer(ids)
        out = np.where((at >= 0)[:, None], factors[np.maximum(at, 0)], 0.0)
        if fmap and feats is not None and (at < 0).any():
            table = feats.set_index(feats.columns[0]).reindex(ids[at < 0])
            present = table[fmap["columns"]].notna().all(axis=1).to_numpy()
            values = (table[fmap["columns"]].to_numpy(dtype=float)[present] - fmap["mean"]) / fmap["scale"]
            rows = np.flatnonzero(at < 0)[present]
            out[rows] = values @ fmap["coef"] + fmap["intercept"]
        return out

    def predict(
        self,
        X: pd.DataFrame,
        user_features: pd.DataFrame | None = None,
        item_features: pd.DataFrame | None = None,
    ) -> np.ndarray:
        u = self._factors(X.iloc[:, 0], self.users_, self.user_factors_, self.user_map_, user_features)
        i = self._factors(X.iloc[:, 1], self.items_, self.item_factors_, self.item_map_, item_features)
        return self.mean_ + u[:, 0] + i[:, 0] + (u[:, 1:] * i[:, 1:]).sum(axis=1)


def _feature_map(
    features: pd.DataFrame | None, ids: list[Any], factors: np.ndarray, reg: float
) -> dict[str, Any]:
    """A ridge map from a feature table (id column first) to learned factors, for cold starts."""
    if features is None:
        return {}
    columns = [c for c in features.columns[1:] if pd.api.types.is_numeric_dtype(features[c])]
    table = features.drop_duplicates(features.columns[0]).set_index(features.columns[0])[columns]
    known = table.reindex(ids).notna().all(axis=1).to_numpy()
    if not columns or known.sum() < 2:
        raise ComponentInputError(
            f"features keyed by {features.columns[0]!r}: need numeric columns for two or more rated ids"
        )
    values = table.reindex(ids).to_numpy(dtype=float)[known]
    mean, scale = values.mean(axis=0), values.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    Z = (values - mean) / scale
    target = factors[known]
    intercept = target.mean(axis=0)
    coef = np.linalg.solve(Z.T @ Z + reg * len(Z) * np.eye(Z.shape[1]), Z.T @ (target - intercept))
    return {"columns": columns, "mean": mean, "scale": scale, "coef": coef, "intercept": intercept}


def _columns(df: pd.DataFrame, user: str | None, item: str | None, rating: str | None) -> list[str]:
    """The user, item and rating columns: those named, else the table's first three in that order."""
    wanted = [user, item, rating]
    found = [name or (df.columns[i] if i < len(df.columns) else None) for i, name in enumerate(wanted)]
    chosen = [name for name in found if name is not None]
    if len(chosen) < 3:
        raise ComponentInputError("dataset needs user, item and rating columns (in that order, or named)")
    if len(set(chosen)) < 3:
        raise ComponentInputError(f"user_column, item_column and rating_column must differ, got {chosen}")
    return require_columns(df, chosen, "user_column/item_column/rating_column")


USER = Param("user_column", "column", None, "column of user ids (default: the first)", optional=True)
ITEM = Param("item_column", "column", None, "column of item ids (default: the second)", optional=True)
USER_FEATURES = Port(
    "user_features", "table", "user id then numeric features (for users not in training)", optional=True
)
ITEM_FEATURES = Port(
    "item_features", "table", "item id then numeric features (for items not in training)", optional=True
)


@component(
    name="train-recommender",
    display_name="Train Recommender",
    category="Train",
    description="Matrix factorisation of user-item-rating triples (Matchbox's place), with optional user "
    "and item features for users and items never rated.",
    inputs=[Port("training_dataset", "table", "user, item, rating rows"), USER_FEATURES, ITEM_FEATURES],
    outputs=[Port("trained_model", "model", "the fitted recommender")],
    params=[
        USER,
        ITEM,
        Param("rating_column", "column", None, "column of ratings (default: the third)", optional=True),
        Param("number_of_traits", "int", 10, "length of each user's and item's trait vector", min=1),
        Param(
            "number_of_recommendation_algorithm_iterations",
            "int",
            10,
            "alternating least squares rounds",
            min=1,
        ),
        Param(
            "regularization_weight",
            "float",
            0.1,
            "L2 penalty on biases and traits",
            min=0,
            min_exclusive=True,
        ),
        Param("random_number_seed", "int", 0, "seed of the initial traits", min=0),
    ],
)
def train_recommender(
    ctx: Context,
    training_dataset: pd.DataFrame,
    user_features: pd.DataFrame | None,
    item_features: pd.DataFrame | None,
    **p: Any,
) -> dict[str, Any]:
    user, item, rating = _columns(training_dataset, p["user_column"], p["item_column"], p["rating_column"])
    rows = training_dataset[[user, item, rating]].dropna()
    if not pd.api.types.is_numeric_dtype(rows[rating]):
        raise ComponentInputError(
            f"rating_column {rating!r} holds {rows[rating].dtype} values; ratings must be numbers"
        )
    if rows.empty:
        raise ComponentInputError("training_dataset has no complete user, item, rating row")
    estimator = MatrixFactorization(
        p["number_of_traits"],
        p["number_of_recommendation_algorithm_iterations"],
        p["regularization_weight"],
        p["random_number_seed"],
    ).fit(rows[[user, item]], rows[rating], user_features, item_features)
    ctx.log("training_rows", len(rows))
    ctx.log("rows_skipped", len(training_dataset) - len(rows))
    model = TrainedModel(
        estimator=estimator,
        task="recommendation",
        learner="matrix-factorization",
        feature_columns=[user, item],
        feature_types={c: str(rows[c].dtype) for c in (user, item)},
        label_column=rating,
        training_rows=len(rows),
        skipped_rows=len(training_dataset) - len(rows),
        params=p,
        example=rows[[user, item]].head(5),
    )
    return {"trained_model": model}


def recommend(
    model: TrainedModel,
    users: pd.Series,
    k: int,
    exclude: pd.DataFrame | None,
    with_ratings: bool,
    user_features: Any = None,
) -> pd.DataFrame:
    """The ``k`` best-rated items per user (Studio's wide layout: User, Item 1..k[, Rating 1..k])."""
    user, item = model.feature_columns
    est = model.estimator
    distinct = pd.unique(users.dropna())
    pairs = pd.DataFrame(
        {
            user: np.repeat(distinct, len(est.items_)),
            item: np.tile(np.asarray(est.items_, dtype=object), len(distinct)),
        }
    )
    scores = est.predict(pairs, user_features=user_features).reshape(len(distinct), len(est.items_))
    if exclude is not None:
        seen = exclude[[user, item]].dropna()
        rows = pd.Index(distinct).get_indexer(seen[user])
        cols = pd.Index(est.items_).get_indexer(seen[item])
        ok = (rows >= 0) & (cols >= 0)
        scores[rows[ok], cols[ok]] = -np.inf
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    out: dict[str, Any] = {"User": distinct}
    items = np.asarray(est.items_, dtype=object)
    for j in range(top.shape[1]):
        best = scores[np.arange(len(distinct)), top[:, j]]
        out[f"Item {j + 1}"] = np.where(np.isfinite(best), items[top[:, j]], np.array(None, dtype=object))
        if with_ratings:
            out[f"Rating {j + 1}"] = np.where(np.isfinite(best), best, np.nan)
    return pd.DataFrame(out)


@component(
    name="score-recommender",
    display_name="Score Recommender",
    category="Score",
    description="Predicts ratings of user-item pairs, or recommends each user's top items "
    "(leaving out items the training data shows they rated).",
    inputs=[
        Port("trained_model", "model", "the output of Train Recommender"),
        Port(
            "dataset_to_score", "table", "user-item pairs (rating prediction) or users (item recommendation)"
        ),
        Port("training_data", "table", "items rated here are not recommended again", optional=True),
        USER_FEATURES,
        ITEM_FEATURES,
    ],
    outputs=[Port("scored_dataset", "table", "predicted ratings, or items per user")],
    params=[
        Param(
            "recommender_prediction_kind",
            "string",
            "rating prediction",
            "what to score",
            choices=("rating prediction", "item recommendation"),
        ),
        Param("maximum_number_of_items_to_recommend_to_a_user", "int", 5, "k of the top k", min=1),
        Param(
            "whether_to_return_the_predicted_ratings_of_the_items_along_with_the_labels",
            "bool",
            False,
            "add Rating 1..k",
        ),
    ],
)
def score_recommender(
    ctx: Context,
    trained_model: TrainedModel,
    dataset_to_score: pd.DataFrame,
    training_data: pd.DataFrame | None,
    user_features: pd.DataFrame | None,
    item_features: pd.DataFrame | None,
    **p: Any,
) -> dict[str, Any]:
    if trained_model.task != "recommendation":
        raise ComponentInputError(f"trained_model is a {trained_model.task} model; score it with score-model")
    user, item = trained_model.feature_columns
    if p["recommender_prediction_kind"] == "item recommendation":
        require_columns(dataset_to_score, [user], "dataset_to_score")
        out = recommend(
            trained_model,
            dataset_to_score[user],
            p["maximum_number_of_items_to_recommend_to_a_user"],
            training_data,
            p["whether_to_return_the_predicted_ratings_of_the_items_along_with_the_labels"],
            user_features,
        )
    else:
        pairs = trained_model.features(dataset_to_score, "dataset_to_score")
        out = dataset_to_score.assign(
            **{LABELS: trained_model.estimator.predict(pairs, user_features, item_features)}
        )
        out.attrs[SCORES_KEY] = {
            "task": "regression",
            "label": trained_model.label_column if trained_model.label_column in out else None,
        }
    ctx.log("rows_scored", len(out))
    return {"scored_dataset": out}
