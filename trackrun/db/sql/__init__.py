"""The SQL store (SQLAlchemy Core): SQLite embedded by default, PostgreSQL for a team service."""
