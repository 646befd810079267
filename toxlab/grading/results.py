"""Per-check results in the gradebook's database, beside nbgrader's tables.

nbgrader stores one score per grade cell; the report needs each check (visible and hidden) and
what it cost. The coordinator writes them when it records a graded submission, replacing that
submission's earlier rows in one transaction, so a re-run never counts a check twice. Only the
instructor's report reads them: hidden checks' names never reach a student's feedback.
"""

from __future__ import annotations

import functools

from ..extras import require

require("sqlalchemy", "grading", "toxlab's per-check results in the gradebook")

from sqlalchemy import (  # noqa: E402 - after the check that names the extra
    Boolean,
    Column,
    Float,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    insert,
    select,
)

metadata = MetaData()
checks = Table(
    "toxlab_checks", metadata,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("notebook", String(128), primary_key=True),
    Column("exercise", String(128), primary_key=True),
    Column("check", String(256), primary_key=True),
    Column("hidden", Boolean, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("hint", Text, nullable=False),
    Column("points_lost", Float, nullable=False),
)
runs = Table(
    "toxlab_runs", metadata,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("notebook", String(128), primary_key=True),
    Column("start_s", Float, nullable=False),  # executor start-up (imports)
    Column("cells_s", Float, nullable=False),  # running the notebook's cells
    Column("checks_s", Float, nullable=False),  # the checks' questions and comparisons
    Column("where", String(256), nullable=False),  # the worker that graded it, or "local"
)


@functools.cache
def engine(url: str):
    """One engine per database URL for this process."""
    return create_engine(url, future=True)


def create(url: str) -> None:
    """Create toxlab's tables if missing (once, before grading fans out)."""
    metadata.create_all(engine(url))


def save(url: str, assignment: str, student: str, notebook: str, records: list[dict], seconds: dict,
         where: str) -> None:
    """Replace one graded notebook's check records and timings."""
    key = {"assignment": assignment, "student": student, "notebook": notebook}
    with engine(url).begin() as conn:
        for table in (checks, runs):
            conn.execute(delete(table).where(*(table.c[k] == v for k, v in key.items())))
        if records:
            conn.execute(insert(checks), [{**key, **r} for r in records])
        conn.execute(insert(runs), [{**key, "start_s": seconds.get("start", 0.0), "cells_s": seconds.get("cells", 0.0),
                                     "checks_s": seconds.get("checks", 0.0), "where": where[:256]}])


def load(url: str, assignment: str, table: Table = checks) -> list[dict]:
    """Every row of `table` for one assignment, as dicts."""
    create(url)
    with engine(url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).where(table.c.assignment == assignment))]
