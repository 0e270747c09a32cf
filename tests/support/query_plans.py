"""What the database plans to do with a statement: tests that a hot read uses its index."""

from __future__ import annotations

from booking.extensions import db


def query_plan(app, backend: str, statement, values: dict) -> str:
    """The plan for the statement with these values, as one line (PostgreSQL's with
    sequential scans discouraged, so that a missing index shows on a small table)."""
    with app.app_context():
        # an IN list's values become parameters of their own, as they would when executed
        compiled = statement.compile(db.engine, compile_kwargs={"render_postcompile": True})
        bound = compiled.construct_params(values)
        connection = db.session.connection()
        if backend == "sqlite":
            parameters = tuple(None if bound[name] is None else str(bound[name])
                               for name in compiled.positiontup)
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", parameters)
        else:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", bound)
        plan = " ".join(str(row) for row in rows)
        db.session.rollback()
    return plan
