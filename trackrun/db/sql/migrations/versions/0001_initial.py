"""initial schema: projects, runs, labels, numbers, logs, metrics, artifacts, functions

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("iteration", sa.Integer, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("start_time", sa.Float),
        sa.Column("last_update", sa.Float),
        sa.Column("host", sa.String(255)),
        sa.Column("pid", sa.Integer),
        sa.Column("pid_start", sa.String(32)),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("project", "uid", "iteration", name="uq_runs_project_uid_iteration"),
    )
    op.create_index("ix_runs_project_iteration_start", "runs", ["project", "iteration", "start_time"])
    op.create_index("ix_runs_name", "runs", ["name"])
    op.create_index("ix_runs_state", "runs", ["state"])
    op.create_table(
        "run_labels",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("value", sa.String(1024), nullable=False),
    )
    op.create_index("ix_run_labels_name_value", "run_labels", ["name", "value"])
    op.create_table(
        "run_numbers",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("field", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Float),
    )
    op.create_index("ix_run_numbers_field_key_value", "run_numbers", ["field", "key", "value"])
    op.create_table(
        "logs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_logs_project_uid", "logs", ["project", "uid", "id"])
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("iteration", sa.Integer, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("timestamp", sa.Float, nullable=False),
    )
    op.create_index("ix_metrics_run_key", "metrics", ["project", "uid", "iteration", "key", "step"])
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String(64), nullable=False, unique=True),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("tree", sa.String(64), nullable=False),
        sa.Column("iteration", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("hash", sa.String(128)),
        sa.Column("size", sa.Integer),
        sa.Column("target_path", sa.Text),
        sa.Column("updated", sa.Float, nullable=False),
        sa.Column("best", sa.Boolean, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_artifacts_project_key_updated", "artifacts", ["project", "key", "updated"])
    op.create_index("ix_artifacts_tree", "artifacts", ["project", "tree", "iteration"])
    op.create_table(
        "artifact_tags",
        sa.Column("project", sa.String(255), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("tag", sa.String(255), primary_key=True),
        sa.Column("artifact_id", sa.Integer, sa.ForeignKey("artifacts.id"), nullable=False),
    )
    op.create_index("ix_artifact_tags_artifact", "artifact_tags", ["artifact_id"])
    op.create_table(
        "artifact_labels",
        sa.Column("artifact_id", sa.Integer, sa.ForeignKey("artifacts.id"), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("value", sa.String(1024), nullable=False),
    )
    op.create_table(
        "functions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("project", "name", "hash", name="uq_functions_project_name_hash"),
    )
    op.create_table(
        "function_tags",
        sa.Column("project", sa.String(255), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("tag", sa.String(255), primary_key=True),
        sa.Column("function_id", sa.Integer, sa.ForeignKey("functions.id"), nullable=False),
    )


def downgrade() -> None:
    for table in ("function_tags", "functions", "artifact_labels", "artifact_tags", "artifacts", "metrics",
                  "logs", "run_numbers", "run_labels", "runs", "projects"):
        op.drop_table(table)
