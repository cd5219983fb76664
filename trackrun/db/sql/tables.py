"""Table definitions. The alembic migrations create exactly these; a test checks they agree."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

projects = Table(
    "projects", metadata,
    Column("name", String(255), primary_key=True),
    Column("created", Float, nullable=False),
)

# One row per run and iteration; `body` is the whole run dict as JSON, the other columns index it.
runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project", String(255), nullable=False),
    Column("uid", String(64), nullable=False),
    Column("iteration", Integer, nullable=False, default=0),
    Column("name", String(255), nullable=False, default=""),
    Column("state", String(32), nullable=False),
    Column("start_time", Float),
    Column("last_update", Float),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("pid_start", String(32)),
    Column("body", Text, nullable=False),
    UniqueConstraint("project", "uid", "iteration", name="uq_runs_project_uid_iteration"),
    Index("ix_runs_project_iteration_start", "project", "iteration", "start_time"),
    Index("ix_runs_name", "name"),
    Index("ix_runs_state", "state"),
)

run_labels = Table(
    "run_labels", metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("value", String(1024), nullable=False),
    Index("ix_run_labels_name_value", "name", "value"),
)

# Numeric parameters and results, for filtering and sorting without parsing bodies.
run_numbers = Table(
    "run_numbers", metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), primary_key=True),
    Column("field", String(16), primary_key=True),  # "results" or "parameters"
    Column("key", String(255), primary_key=True),
    Column("value", Float),
    Index("ix_run_numbers_field_key_value", "field", "key", "value"),
)

logs = Table(
    "logs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project", String(255), nullable=False),
    Column("uid", String(64), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Index("ix_logs_project_uid", "project", "uid", "id"),
)

# NULL in value means NaN: SQLite turns NaN into NULL, so we make that the rule everywhere.
metrics = Table(
    "metrics", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project", String(255), nullable=False),
    Column("uid", String(64), nullable=False),
    Column("iteration", Integer, nullable=False),
    Column("key", String(255), nullable=False),
    Column("step", Integer, nullable=False),
    Column("value", Float),
    Column("timestamp", Float, nullable=False),
    Index("ix_metrics_run_key", "project", "uid", "iteration", "key", "step"),
)

artifacts = Table(
    "artifacts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", String(64), nullable=False, unique=True),
    Column("project", String(255), nullable=False),
    Column("key", String(512), nullable=False),
    Column("tree", String(64), nullable=False, default=""),
    Column("iteration", Integer, nullable=False, default=0),
    Column("kind", String(32), nullable=False, default=""),
    Column("hash", String(128)),
    Column("size", Integer),
    Column("target_path", Text),
    Column("updated", Float, nullable=False),
    Column("best", Boolean, nullable=False, default=False),
    Column("body", Text, nullable=False),
    Index("ix_artifacts_project_key_updated", "project", "key", "updated"),
    Index("ix_artifacts_tree", "project", "tree", "iteration"),
)

artifact_tags = Table(
    "artifact_tags", metadata,
    Column("project", String(255), primary_key=True),
    Column("key", String(512), primary_key=True),
    Column("tag", String(255), primary_key=True),
    Column("artifact_id", Integer, ForeignKey("artifacts.id"), nullable=False),
    Index("ix_artifact_tags_artifact", "artifact_id"),
)

artifact_labels = Table(
    "artifact_labels", metadata,
    Column("artifact_id", Integer, ForeignKey("artifacts.id"), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("value", String(1024), nullable=False),
)

functions = Table(
    "functions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("updated", Float, nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint("project", "name", "hash", name="uq_functions_project_name_hash"),
)

function_tags = Table(
    "function_tags", metadata,
    Column("project", String(255), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("tag", String(255), primary_key=True),
    Column("function_id", Integer, ForeignKey("functions.id"), nullable=False),
)
