"""Size limits of names and values, shared by the stores and the wire contract (``trainyard.api``).

They sit below both, so the server's request schemas state the store's limits without importing
the store.
"""

from __future__ import annotations

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000

# A run search, sized so that SQLite compiles it (an expression tree at most 1000 deep, at most 64
# tables in a join; SQLite 3.40 crashes ordering by 31 joined keys) with room to spare, and
# PostgreSQL with it. Each filtered metric and each ordered-by metric, param or tag is a join.
MAX_FILTER_TERMS = 100  # comparisons joined by ``and``
MAX_FILTER_VALUES = 1000  # the values compared with, ``IN (...)`` lists included
MAX_FILTER_METRICS = 50  # different metrics filtered on
MAX_ORDER_KEYS = 10  # items of ``order_by``

# Values in one answer of ``get_metric_series`` (a chart is narrower than this many pixels).
MIN_SERIES_POINTS = 4
MAX_SERIES_POINTS = 20_000
# Runs one batched series request names (the studio compares 2 to 100 runs).
MAX_SERIES_RUNS = 100

# A file name (one part of a path) on Linux, macOS and Windows file systems, in bytes.
MAX_FILE_NAME_BYTES = 255
# Artifact stores write ``<name><TEMP_MARK><32 hex digits>`` first and rename it into place, and
# downloads write ``.<name><TEMP_MARK><hex>``, so a name part must leave room for both (else the
# write fails with ENAMETOOLONG).
TEMP_MARK = ".tmp-"
TEMP_SUFFIX_BYTES = len(".") + len(TEMP_MARK) + 32
MAX_ARTIFACT_NAME_PART_BYTES = MAX_FILE_NAME_BYTES - TEMP_SUFFIX_BYTES

MAX_IDEMPOTENCY_KEY_LENGTH = 200  # a create's Idempotency-Key, a metric batch's id

MAX_BULK_RUNS = 1000  # runs one bulk change (tag, delete, restore) names
