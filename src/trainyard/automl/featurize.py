"""Featurization: infer each column's purpose, then build the transformer that turns raw rows
into features. The plan is inferred once per experiment; every trial fits a fresh transformer
from it, and the fitted one is the first step of the returned pipeline, so it scores raw rows.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, TargetEncoder

from trainyard.errors import InvalidInputError

PURPOSES = ("numeric", "categorical", "boolean", "datetime", "text", "ignore")
ONE_HOT_MAX = 10  # more levels than this: target + count encoding instead of one-hot
TEXT_MIN_WORDS = 3.0


@dataclass
class ColumnPlan:
    """What each input column becomes, and why columns were dropped."""

    purposes: dict[str, str]
    dropped: dict[str, str] = field(default_factory=dict)

    def columns(self, purpose: str) -> list[str]:
        return [c for c, p in self.purposes.items() if p == purpose]


def _is_datetime(col: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(col):
        return True
    if not (col.dtype == object or pd.api.types.is_string_dtype(col)):
        return False
    sample = col.dropna().astype(str).head(200)
    if sample.empty or sample.str.fullmatch(r"-?\d+(\.\d+)?").all():
        return False
    try:  # a few values first: parsing "mixed" formats is slow, and most columns fail at once
        pd.to_datetime(sample.head(5), format="mixed")
        pd.to_datetime(sample, format="mixed")
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def _infer(col: pd.Series, n: int) -> tuple[str, str | None]:
    """The column's purpose, or ``ignore`` with the reason it is dropped."""
    values = col.dropna()
    unique = values.nunique()
    if unique <= 1:
        return "ignore", "it holds a single value"
    if pd.api.types.is_bool_dtype(col) or unique == 2 and not pd.api.types.is_float_dtype(col):
        return "boolean", None
    if _is_datetime(col):
        return "datetime", None
    if pd.api.types.is_float_dtype(col):
        return "numeric", None
    id_like = n >= 20 and unique >= 0.95 * len(values)
    if pd.api.types.is_integer_dtype(col):
        if id_like and np.all(np.diff(np.sort(values.to_numpy())) == 1):
            return "ignore", "ID-like: consecutive unique integers"
        return "numeric", None
    if unique > 0.3 * len(values):  # words counted on a sample: splitting every value is slow
        words = values.head(1000).astype(str).str.split().str.len().mean()
        if words >= TEXT_MIN_WORDS:
            return "text", None
    if id_like:
        return "ignore", "ID-like: every value is different"
    return "categorical", None


def infer_plan(frame: pd.DataFrame, settings: str | dict[str, Any]) -> ColumnPlan:
    """Column purposes from the data, overridden by ``featurization={"column_purposes": …}``."""
    custom = settings if isinstance(settings, dict) else {}
    overrides = dict(custom.get("column_purposes") or {})
    for col, purpose in overrides.items():
        if col not in frame.columns:
            raise InvalidInputError(f"featurization column_purposes names {col!r}, which is not a column")
        if purpose not in PURPOSES:
            raise InvalidInputError(
                f"column purpose {purpose!r} for {col!r}: use one of {', '.join(PURPOSES)}"
            )
    plan = ColumnPlan({})
    for col in frame.columns:
        if col in (custom.get("drop_columns") or []):
            plan.purposes[col], plan.dropped[col] = "ignore", "dropped by featurization settings"
        elif col in overrides:
            plan.purposes[col] = overrides[col]
        elif settings == "off":
            if not pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col]):
                raise InvalidInputError(
                    f"featurization='off' needs numeric columns, and {col!r} is {frame[col].dtype}; "
                    "use featurization='auto'"
                )
            plan.purposes[col] = "numeric"
        else:
            purpose, reason = _infer(frame[col], len(frame))
            plan.purposes[col] = purpose
            if reason:
                plan.dropped[col] = reason
    if not any(p != "ignore" for p in plan.purposes.values()):
        raise InvalidInputError("no usable feature columns are left after dropping: " + str(plan.dropped))
    return plan


class CountEncoder(BaseEstimator, TransformerMixin):
    """Each category replaced by how often it occurs in the training rows (0 when unseen)."""

    def fit(self, X: Any, y: Any = None) -> CountEncoder:
        frame = pd.DataFrame(X)
        self.counts_ = [frame[c].value_counts(dropna=False).to_dict() for c in frame.columns]
        return self

    def transform(self, X: Any) -> np.ndarray:
        frame = pd.DataFrame(X)
        cols = [
            frame.iloc[:, i].map(counts).fillna(0).to_numpy(float) for i, counts in enumerate(self.counts_)
        ]
        return np.column_stack(cols)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([f"count_{c}" for c in (input_features or range(len(self.counts_)))], dtype=object)


def _dense(values: Any) -> np.ndarray:
    return np.asarray(values.toarray() if hasattr(values, "toarray") else values, dtype=float).ravel()


class RangeScaler(BaseEstimator, TransformerMixin):
    """Standardize, after clipping each feature to the range it had in the training rows.

    For linear learners and k-NN: a value outside anything seen in training (a house five times
    the usual size) would otherwise be extrapolated linearly into an absurd prediction. Dense
    features are centered; sparse ones only scaled, so they stay sparse."""

    def fit(self, X: Any, y: Any = None) -> RangeScaler:
        if hasattr(X, "tocsr"):
            X = X.tocsr()
            self.low_ = np.minimum(_dense(X.min(axis=0)), 0)
            self.high_ = np.maximum(_dense(X.max(axis=0)), 0)
            mean, square = _dense(X.mean(axis=0)), _dense(X.multiply(X).mean(axis=0))
            self.mean_, std = None, np.sqrt(np.maximum(square - mean**2, 0))
        else:
            X = np.asarray(X, dtype=float)
            self.low_, self.high_ = X.min(axis=0), X.max(axis=0)
            self.mean_, std = X.mean(axis=0), X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X: Any) -> Any:
        if hasattr(X, "tocsr"):
            X = X.tocsr(copy=True).astype(float)
            X.data = np.clip(X.data, self.low_[X.indices], self.high_[X.indices]) / self.scale_[X.indices]
            return X
        X = np.clip(np.asarray(X, dtype=float), self.low_, self.high_)
        return (X - self.mean_) / self.scale_


def _as_text(X: Any) -> np.ndarray:
    return pd.DataFrame(X).astype(str).to_numpy()


def _date_parts(X: Any) -> np.ndarray:
    frame = pd.DataFrame(X)
    parts = []
    for c in frame.columns:
        when = pd.to_datetime(frame[c], errors="coerce", format="mixed")
        parts += [getattr(when.dt, part) for part in DATE_PARTS]
    return np.column_stack([p.to_numpy(float) for p in parts])


DATE_PARTS = ("year", "month", "day", "day_of_week", "hour", "day_of_year")


def _date_names(_: Any, columns: Any) -> list[str]:
    return [f"{c}_{part}" for c in columns for part in DATE_PARTS]


def _one_text(X: Any) -> np.ndarray:
    return pd.DataFrame(X).iloc[:, 0].fillna("").astype(str).to_numpy()


def build_featurizer(plan: ColumnPlan, frame: pd.DataFrame, task: str) -> ColumnTransformer:
    """A fresh, unfitted transformer for ``plan`` (cardinalities are read from ``frame``)."""
    steps: list[tuple[str, Any, list[str]]] = []
    numeric = plan.columns("numeric")
    if numeric:
        steps.append(("numeric", SimpleImputer(strategy="median", add_indicator=True), numeric))
    categorical = plan.columns("categorical") + plan.columns("boolean")
    low = [c for c in categorical if frame[c].nunique() <= ONE_HOT_MAX]
    high = [c for c in categorical if c not in low]
    fill = SimpleImputer(strategy="constant", fill_value="(missing)")
    if low:
        onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        steps.append(
            (
                "onehot",
                make_pipeline(FunctionTransformer(_as_text, feature_names_out="one-to-one"), fill, onehot),
                low,
            )
        )
    if high:
        classify = task == "classification"
        target = TargetEncoder(
            target_type="auto" if classify else "continuous",
            cv=(StratifiedKFold if classify else KFold)(5, shuffle=True, random_state=0),
        )
        steps.append(
            (
                "target",
                make_pipeline(FunctionTransformer(_as_text, feature_names_out="one-to-one"), fill, target),
                high,
            )
        )
        steps.append(
            (
                "count",
                make_pipeline(FunctionTransformer(_as_text, feature_names_out="one-to-one"), CountEncoder()),
                high,
            )
        )
    dates = plan.columns("datetime")
    if dates:
        steps.append(
            (
                "datetime",
                make_pipeline(
                    FunctionTransformer(_date_parts, feature_names_out=_date_names), SimpleImputer()
                ),
                dates,
            )
        )
    for col in plan.columns("text"):
        tfidf = TfidfVectorizer(max_features=300, sublinear_tf=True, min_df=2)
        steps.append(
            (
                f"tfidf_{col}",
                make_pipeline(FunctionTransformer(_one_text, feature_names_out="one-to-one"), tfidf),
                [col],
            )
        )
    return ColumnTransformer(steps, remainder="drop", sparse_threshold=0.3)


def guardrails(
    frame: pd.DataFrame, y: pd.Series, plan: ColumnPlan, task: str, until: float = math.inf
) -> list[dict[str, str]]:
    """Azure-style data guardrails: what was found in the data and what was done about it. The
    leakage check (a tree per column) stops at ``until`` (a wall-clock time) with the columns it
    checked, and its detail says how many."""
    rows = []
    missing = {c: int(n) for c, n in frame.isna().sum().items() if n and plan.purposes.get(c) != "ignore"}
    rows.append(
        {
            "guardrail": "missing feature values imputation",
            "status": "done" if missing else "passed",
            "detail": ", ".join(f"{c}: {n} imputed" for c, n in missing.items()) or "no missing values",
        }
    )
    if task == "classification":
        counts = y.value_counts()
        ratio = counts.min() / counts.max()
        rows.append(
            {
                "guardrail": "class balancing detection",
                "status": "alerted" if ratio < 0.2 else "passed",
                "detail": f"smallest class {counts.idxmin()}: {counts.min()} rows, largest {counts.max()}",
            }
        )
    high = [c for c in plan.columns("categorical") if frame[c].nunique() > ONE_HOT_MAX]
    rows.append(
        {
            "guardrail": "high cardinality feature detection",
            "status": "done" if high else "passed",
            "detail": ", ".join(f"{c} ({frame[c].nunique()} levels): target + count encoded" for c in high)
            or "none",
        }
    )
    leaks, checked, total = _leaks(frame, y, plan, until)
    unchecked = f" ({checked} of {total} columns checked in the time left)" if checked < total else ""
    rows.append(
        {
            "guardrail": "leakage-suspicious columns",
            "status": "alerted" if leaks else "passed",
            "detail": (", ".join(leaks) or "none") + unchecked,
        }
    )
    for col, why in plan.dropped.items():
        rows.append({"guardrail": "column dropped", "status": "done", "detail": f"{col}: {why}"})
    return rows


LEAK_SCORE = 0.99
LEAK_ROWS = 5000


def _leaks(
    frame: pd.DataFrame, y: pd.Series, plan: ColumnPlan, until: float = math.inf
) -> tuple[list[str], int, int]:
    """Columns that alone almost determine the label (a shallow tree on that column alone scores
    >= 0.99 accuracy or R², well above the majority class): likely derived from the label. Stops
    at ``until``; returns the columns found, how many were checked, and how many there are."""
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    columns = plan.columns("numeric") + plan.columns("categorical") + plan.columns("boolean")
    rows = frame.sample(min(len(frame), LEAK_ROWS), random_state=0).index
    target = y.loc[rows]
    classify = not pd.api.types.is_float_dtype(target) or target.nunique() <= 20
    majority = target.value_counts(normalize=True).iloc[0] if classify else 0.0
    if majority >= LEAK_SCORE or len(rows) < 20:
        return [], len(columns), len(columns)
    tree = (DecisionTreeClassifier if classify else DecisionTreeRegressor)(max_depth=3, random_state=0)
    half = np.arange(len(rows)) % 3 != 0  # fit on two thirds, score on the rest: one fit per column
    truth = target.to_numpy()
    found, checked = [], 0
    for col in columns:
        if time.time() >= until:
            break
        checked += 1
        values = frame.loc[rows, col]
        codes = values if plan.purposes[col] == "numeric" else pd.Series(pd.factorize(values)[0], index=rows)
        x = codes.fillna(-1).to_numpy(dtype=float)[:, None]
        score = tree.fit(x[half], truth[half]).score(x[~half], truth[~half])
        if score >= LEAK_SCORE:
            found.append(f"{col} (alone scores {score:.3f})")
    return found, checked, len(columns)
