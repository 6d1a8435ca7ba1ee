"""What the command line says to the operator: one line, Chinese then English."""

from __future__ import annotations

SCHEMA_MISSING = (
    "数据库还没有建表，请先运行 `linggong db upgrade`。 "
    "The database has no schema yet: run `linggong db upgrade` first."
)
SCHEMA_BEHIND = (
    "数据库结构不是最新版本，请先运行 `linggong db upgrade`。 "
    "The database schema is out of date: run `linggong db upgrade` first."
)
SCHEMA_UNKNOWN = (
    "数据库结构比这个程序新（版本不认识），请使用更新的程序。 "
    "The database schema is newer than this program knows: run a newer release."
)
DB_UNREACHABLE = "无法连接数据库：{error} Cannot open the database: {error}"
