"""The event index (SQLite or PostgreSQL) and the audit reports it answers, checked against the chain."""
