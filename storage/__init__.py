"""Persistence: SQLAlchemy 2 models, the database handle, repositories and Alembic migrations.

Imports nothing from the other packages. Repositories take a session and never commit.
"""
