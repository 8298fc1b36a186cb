"""Generated wide, categorical-heavy tables shaped like Kaggle's "House Prices" (1,460 rows x 80
columns, 43 categorical with up to 25 levels and rare ones, missing values, a skewed positive
target with a few outliers), so the AutoML benchmark needs no download.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _levels(rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` draws of ``k`` levels with Zipf-like frequencies (rare levels as in real tables)."""
    p = 1.0 / np.arange(1, k + 1) ** 1.2
    codes = rng.choice(k, n, p=p / p.sum())
    return codes, np.array([f"L{i}" for i in range(k)])


def house_prices_like(
    rows: int = 1460, numeric: int = 36, categorical: int = 43, seed: int = 0
) -> pd.DataFrame:
    """A regression table: ``numeric`` + ``categorical`` feature columns and ``target`` (a price)."""
    rng = np.random.default_rng(seed)
    frame: dict[str, object] = {}
    quality = rng.integers(1, 11, rows)
    area = np.exp(rng.normal(7.3, 0.35, rows))
    year = rng.integers(1872, 2011, rows)
    frame.update(OverallQual=quality, GrLivArea=area.round(), YearBuilt=year)
    log_price = 11.0 + 0.08 * quality + 0.45 * (np.log(area) - 7.3) + 0.003 * (year - 1970)
    for i in range(numeric - 3):
        x = rng.normal(0, 1, rows)
        if i % 3 == 0:
            x = np.round(np.exp(x))  # skewed counts
        log_price += rng.normal(0, 0.03) * (x - x.mean()) / (x.std() or 1)
        col = pd.Series(x)
        if i % 5 == 0:
            col[rng.random(rows) < 0.15] = np.nan  # like LotFrontage
        frame[f"num{i}"] = col
    sizes = [25, 16, 15, 12, 11] + [int(k) for k in rng.integers(2, 10, categorical - 5)]
    for j, k in enumerate(sizes):
        codes, names = _levels(rng, rows, k)
        if j == 0:  # a neighbourhood: strong effects, tied to quality
            codes = (codes + quality // 4) % k
            effect = rng.normal(0, 0.18, k)
        else:
            effect = rng.normal(0, 0.04 if j < 12 else 0.0, k)
        log_price += effect[codes]
        col = pd.Series(names[codes], dtype=object)
        if j % 9 == 4:
            col[rng.random(rows) < (0.9 if j % 2 else 0.05)] = None  # like PoolQC / GarageType
        frame[f"cat{j}"] = col
    log_price += rng.normal(0, 0.1, rows)
    price = np.exp(log_price)
    huge = rng.choice(rows, 2, replace=False)  # the famous outliers: huge houses sold cheap
    frame["GrLivArea"] = np.asarray(frame["GrLivArea"], dtype=float)
    frame["GrLivArea"][huge] = 5000.0
    price[huge] = np.exp(11.4)
    df = pd.DataFrame(frame)
    df["target"] = price.round()
    return df
