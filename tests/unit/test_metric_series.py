"""``server/series.py``: a series cut to a chart's width keeps its first and last points and each
bucket's extremes, never exceeds the budget, and is exact when it fits."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from trainyard.server.series import downsample
from trainyard.store import Metric

values = st.floats(allow_nan=True, allow_infinity=True, width=64)


@given(st.lists(values, min_size=1, max_size=400), st.integers(min_value=4, max_value=64))
def test_a_cut_series_fits_the_budget_and_keeps_the_extremes(series: list[float], points: int) -> None:
    history = [Metric("m", v, step * 3, float(step)) for step, v in enumerate(series)]
    cut = downsample("m", history, points)
    assert cut.total == len(series)
    assert cut.exact == (len(series) <= points)
    assert len(cut.steps) <= points
    assert cut.steps == sorted(cut.steps) and cut.steps[0] == 0 and cut.steps[-1] == 3 * (len(series) - 1)
    finite = [v for v in series if math.isfinite(v)]
    shown = [v for v in cut.values if v is not None]
    if finite:
        assert max(shown) == max(finite) and min(shown) == min(finite)
    by_step = {m.step: m for m in history}
    for step, value in zip(cut.steps, cut.values, strict=True):  # every point shown was logged
        logged = by_step[step].value
        assert value == logged if math.isfinite(logged) else value is None


def test_a_zoom_is_exact_once_few_points_fall_in_it() -> None:
    history = [Metric("m", float(i % 17), i, 0.0) for i in range(100_000)]
    whole = downsample("m", history, 1000)
    assert not whole.exact and len(whole.steps) <= 1000 and whole.total == 100_000
    zoomed = downsample("m", history, 1000, min_step=50_000, max_step=50_499)
    assert zoomed.exact and zoomed.steps == list(range(50_000, 50_500))
    assert zoomed.values == [float(i % 17) for i in range(50_000, 50_500)]
