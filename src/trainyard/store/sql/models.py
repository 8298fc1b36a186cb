"""The tables, as SQLAlchemy Core. Changing one means writing an Alembic migration.

Core rather than ORM classes: the store issues Core statements only, and skipping the ORM keeps
``trainyard run list`` from importing it.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


def _run_fk() -> ForeignKey:
    return ForeignKey("runs.id", ondelete="CASCADE")


EXPERIMENTS = Table(
    "experiments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("deleted", Boolean, nullable=False, server_default=false()),  # MLflow can restore it
)

RUNS = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("experiment_id", String(32), ForeignKey("experiments.id"), nullable=False),
    Column("parent_id", String(32), ForeignKey("runs.id"), nullable=True),
    Column("name", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("start_time", Float),
    Column("end_time", Float),
    Column("heartbeat_at", Float),
    Column("compute", String(64)),
    Column("job", JSON),
    Column("snapshot_id", String(64)),
    Column("environment", String(256)),
    Column("error", Text),
    Column("exit_code", Integer),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(256)),
    Column("cancel_requested", Boolean, nullable=False),
    Column("cancel_reason", Text),  # who asked and why (a sweep's early termination, a user)
    Index("ix_runs_experiment_created", "experiment_id", "created_at"),
    Index("ix_runs_parent", "parent_id"),
    Index("ix_runs_status", "status"),
)

# Every logged value; never updated. NaN is kept as is_nan because SQLite turns NaN into NULL, and
# -0.0 as negative_zero because SQLite stores a whole REAL as an integer (0). ``attempt`` is the
# run's attempt count when the row was written, so a retried job's attempts keep their series
# apart (migration 0010).
METRICS = Table(
    "metrics",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("run_id", String(32), _run_fk(), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Float, nullable=False),
    Column("is_nan", Boolean, nullable=False),
    Column("negative_zero", Boolean, nullable=False, server_default=false()),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("attempt", Integer, nullable=False, server_default="1"),
    Index("ix_metrics_run_attempt_key_step", "run_id", "attempt", "key", "step"),
)

# Each metric's values summarised per block of ``series.BLOCK`` steps (``block`` = step // BLOCK),
# kept as they are logged: how many there are, and the smallest and the largest finite one with
# the step and time it was logged at (NULL while the block holds none). A long series is cut to a
# chart's width from these rather than from every row (``SqlTracking.get_metric_series``).
METRIC_BLOCKS = Table(
    "metric_blocks",
    metadata,
    Column("run_id", String(32), _run_fk(), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("block", BigInteger, primary_key=True),
    Column("count", BigInteger, nullable=False),
    *(
        Column(f"{end}_{name}", kind)
        for end in ("low", "high")
        for name, kind in (
            ("value", Float),
            ("negative_zero", Boolean),
            ("step", BigInteger),
            ("timestamp", Float),
        )
    ),
)

# The newest value of each metric per run (highest step, then timestamp): run lists read this.
# The run's experiment is copied here (runs never change experiment) so that a search ordered by
# a metric walks the index in order instead of sorting every run of the experiment.
LATEST = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), _run_fk(), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Float, nullable=False),
    Column("is_nan", Boolean, nullable=False),
    Column("negative_zero", Boolean, nullable=False, server_default=false()),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("experiment_id", String(32), nullable=False),
    Index("ix_latest_metrics_experiment_key_value", "experiment_id", "key", "is_nan", "value", "run_id"),
)

PARAMS = Table(
    "params",
    metadata,
    Column("run_id", String(32), _run_fk(), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

TAGS = Table(
    "run_tags",
    metadata,
    Column("run_id", String(32), _run_fk(), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    # by key: the deleted-run marker every people's search leaves out, and tag filters
    Index("ix_run_tags_key", "key"),
)

ENVIRONMENTS = Table(
    "environments",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("spec_hash", String(64), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("name", "spec_hash"),
)

# The model registry: a name, its versions (files copied out of the run into models/<name>/<v>),
# and aliases that point at one version each.
MODELS = Table(
    "models",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("description", Text),
    Column("tags", JSON, nullable=False, server_default="{}"),
    # the highest version ever numbered: a deleted version's number is never given again
    Column("last_version", Integer, nullable=False, server_default="0"),
)

MODEL_VERSIONS = Table(
    "model_versions",
    metadata,
    Column("name", String(256), ForeignKey("models.name", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=True),
    Column("source", Text, nullable=False),
    Column("files", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("description", Text),
    Column("tags", JSON, nullable=False),
    Column("properties", JSON, nullable=False),
    Index("ix_model_versions_run", "run_id"),
)

MODEL_ALIASES = Table(
    "model_aliases",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("alias", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    ForeignKeyConstraint(
        ["name", "version"], ["model_versions.name", "model_versions.version"], ondelete="CASCADE"
    ),
)

# Online endpoints: a stable local port with keys, routing to deployments by traffic weight.
ENDPOINTS = Table(
    "endpoints",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("port", Integer, nullable=False),
    Column("primary_key", String(128), nullable=False),
    Column("secondary_key", String(128), nullable=False),
    Column("traffic", JSON, nullable=False),
    Column("worker", String(256)),
    Column("previous_traffic", JSON),  # what `endpoint rollback` restores
    Column("restarts", Integer, nullable=False, server_default="0"),  # of the router by its supervisor
)

DEPLOYMENTS = Table(
    "deployments",
    metadata,
    Column("endpoint", String(64), ForeignKey("endpoints.name", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("model_name", String(256), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("workers", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("port", Integer),
    Column("worker", String(256)),
    Column("error", Text),
    Column("restarts", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("request_timeout", Float),  # seconds a prediction may take; None: no limit
    Column("environment", String(300)),  # "name:version" of the environment it scores in; None: the default
    Column("max_models_in_memory", Integer),  # set: it serves a many-models group; None: one version
)

# Server auth (store/sql/auth.py): users with one role in this workspace, and API tokens kept
# only as sha256 hashes. A token's kind is "user", "agent" (claim/report jobs only) or "job"
# (minted for one claimed run, revoked when it ends).
USERS = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
)

API_TOKENS = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_name", String(64), ForeignKey("users.name", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("run_id", String(32)),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("revoked_at", Float),
    Index("ix_api_tokens_user", "user_name"),
)

# Compute agents as their claims showed them (store/sql/queue.py): one row per agent process,
# its last claim's time; rows older than an hour are dropped at the next claim.
AGENTS = Table(
    "agents",
    metadata,
    Column("id", String(200), primary_key=True),  # host:pid:start
    Column("compute", String(64), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("last_seen", Float, nullable=False),
    Index("ix_agents_last_seen", "last_seen"),
)

# Creates that a client may retry (``Idempotency-Key``), and metric batches by their batch id: the
# key (a hash of who sent it and the client's key), what was created, and the result to answer
# again; written in the create's (or batch's) own transaction, so a reply lost in a crash is
# answered from here on the retry.
IDEMPOTENCY_KEYS = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("result", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_idempotency_keys_created", "created_at"),
)

# Data asset versions (store/sql/data.py): immutable, numbered per name; files under ``prefix`` in
# the datastore, or a reference at ``uri``; archived ones are skipped by ``@latest``.
DATA_VERSIONS = Table(
    "data_versions",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("type", String(16), nullable=False),
    Column("description", Text),
    Column("tags", JSON, nullable=False),
    Column("datastore", String(256), nullable=False),
    Column("prefix", Text),
    Column("uri", Text),
    Column("content_hash", String(64), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("table_stats", JSON),
    Column("archived", Boolean, nullable=False, server_default=false()),
    Column("created_at", Float, nullable=False),
    Column("created_by_run", String(32), ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
)

# Which runs read or wrote which data versions; a model's data is its run's reads.
DATA_LINEAGE = Table(
    "data_lineage",
    metadata,
    Column("run_id", String(32), _run_fk(), primary_key=True),
    Column("name", String(256), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("direction", String(8), primary_key=True),
    ForeignKeyConstraint(["name", "version"], ["data_versions.name", "data_versions.version"]),
    Index("ix_data_lineage_data", "name", "version"),
)

# Registered command components (store/sql/components.py): immutable versions per name, string
# versions; ``seq`` is the order of creation (the newest is the highest not archived).
COMPONENTS = Table(
    "components",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("spec", JSON, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("snapshot_id", String(64)),
    Column("archived", Boolean, nullable=False, server_default=false()),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("name", "seq"),
)

# Named datastores (store/sql/datastores.py): an fsspec URL, an optional endpoint, and the NAMES of
# the environment variables holding the credentials; a data version names its datastore.
DATASTORES = Table(
    "datastores",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("url", Text, nullable=False),
    Column("endpoint", Text),
    Column("credentials", JSON, nullable=False),
    Column("description", Text),
    Column("created_at", Float, nullable=False),
)

# A published pipeline's name: one URL across versions, and the version it runs by default.
PIPELINE_ENDPOINTS = Table(
    "pipeline_endpoints",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("default_version", Integer, nullable=False),
    Column("latest_version", Integer, nullable=False),
    Column("description", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Immutable versions of a published pipeline: the prepared pipeline record, code snapshotted.
PUBLISHED_PIPELINES = Table(
    "published_pipelines",
    metadata,
    Column("name", String(256), ForeignKey("pipeline_endpoints.name", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("pipeline", JSON, nullable=False),
    Column("description", Text),
    Column("created_at", Float, nullable=False),
)

# Schedules of published pipelines; next_fire is the compare-and-set a firing claims.
SCHEDULES = Table(
    "schedules",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("pipeline", String(256), ForeignKey("pipeline_endpoints.name"), nullable=False),
    Column("trigger", String(8), nullable=False),
    Column("spec", Text, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("missed", String(16), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("next_fire", Float, nullable=False),
    Column("watermark", Text),
    Column("poll_seconds", Float),
    Column("created_at", Float, nullable=False),
)

# Every due time a scheduler claimed, and what came of it.
SCHEDULE_FIRINGS = Table(
    "schedule_firings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("schedule", String(256), ForeignKey("schedules.name", ondelete="CASCADE"), nullable=False),
    Column("due", Float, nullable=False),
    Column("claimed_at", Float, nullable=False),
    Column("action", String(8), nullable=False),
    Column("missed", Integer, nullable=False),
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
    Column("error", Text),
    UniqueConstraint("schedule", "due"),
)
