"""Alembic environment: migrations always run on a connection handed over by `trackrun.db.sql.migrate`."""

from alembic import context

from trackrun.db.sql.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
