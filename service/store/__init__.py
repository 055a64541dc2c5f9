"""The append-only event store: SQLAlchemy Core on SQLite and PostgreSQL, and one in memory."""
