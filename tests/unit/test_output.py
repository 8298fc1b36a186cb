import math

from trainyard.cli.output import _clean, sparkline


def test_sparkline_follows_the_shape():
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([5, 5]) == "▁▁"
    assert sparkline([math.nan, 1, 2]) == " ▁█"
    assert sparkline([math.nan]) == ""
    long = sparkline(list(range(1000)), width=10)
    assert len(long) == 10 and long[0] == "▁" and long[-1] == "█"


def test_json_has_no_bare_nan_or_infinity():
    assert _clean({"a": [math.nan, math.inf, -math.inf, 1.5]}) == {"a": ["NaN", "Infinity", "-Infinity", 1.5]}
