import math

from trainyard.cli.output import _clean, sparkline
from trainyard.cli.run_compare import comparison
from trainyard.status import RunStatus
from trainyard.store.records import RunInfo


def test_sparkline_follows_the_shape():
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([5, 5]) == "▁▁"
    assert sparkline([math.nan, 1, 2]) == " ▁█"
    assert sparkline([math.nan]) == ""
    long = sparkline(list(range(1000)), width=10)
    assert len(long) == 10 and long[0] == "▁" and long[-1] == "█"


def test_json_has_no_bare_nan_or_infinity():
    assert _clean({"a": [math.nan, math.inf, -math.inf, 1.5]}) == {"a": ["NaN", "Infinity", "-Infinity", 1.5]}


def test_compare_marks_the_rows_whose_values_differ():
    def run(i: int, params: dict, metrics: dict) -> RunInfo:
        return RunInfo(f"{i:032d}", "e", f"r{i}", RunStatus.COMPLETED, 0.0, params=params, metrics=metrics)

    runs = [
        run(1, {"alpha": "0.5", "solver": "auto"}, {"r2": 0.4, "loss": math.nan}),
        run(2, {"alpha": "1", "solver": "auto"}, {"r2": 0.4, "loss": math.nan, "auc": 0.9}),
    ]
    compared = comparison(runs, {"e": "diabetes"})
    second = {"id": f"{2:032d}", "name": "r2", "experiment": "diabetes", "status": "completed"}
    assert compared["runs"][1] == second
    assert compared["params"] == {
        "alpha": {"values": ["0.5", "1"], "differ": True},
        "solver": {"values": ["auto", "auto"], "differ": False},
    }
    assert compared["metrics"]["r2"] == {"values": [0.4, 0.4], "differ": False}
    assert compared["metrics"]["loss"]["differ"] is False  # NaN and NaN are the same value here
    assert compared["metrics"]["auc"] == {"values": [None, 0.9], "differ": True}  # missing in run 1
