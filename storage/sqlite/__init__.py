"""SQLite fast paths, private to ``storage``: the inline dialect (``inline_sqlite``), group commit
(``group_commit``), hot statements (``hot``) and cheap savepoints (``savepoint``).

Only ``storage`` itself (``storage.db`` and the repositories) imports these; everything else goes
through ``storage.db.Database``, ``storage.db.savepoint`` and the repositories' methods. The
import-linter contracts in ``pyproject.toml`` (``tests/test_architecture.py``) hold that line.
"""
