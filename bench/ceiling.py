"""The ceiling: the smallest Flask service on the same server settings and database.

Three routes: a JSON hello, one indexed read by primary key, one insert under a
unique constraint. What the service reaches is reported as a share of these.
"""

from __future__ import annotations

import os
import uuid

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

from booking.database import configure_engine, read_only_transaction

DATABASE_URL = os.environ["CEILING_DATABASE_URL"]
ROWS = 100_000

engine = create_engine(DATABASE_URL, pool_pre_ping=True)
configure_engine(engine, 15000)
app = Flask(__name__)


@app.before_request
def reads_are_reads():
    """As in the service: only writes take SQLite's write lock up front."""
    read_only_transaction.set(request.method == "GET")


def prepare() -> None:
    """Create the two tables and fill the read table (run once, before serving)."""
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS ceiling_item"))
        connection.execute(text("DROP TABLE IF EXISTS ceiling_write"))
        connection.execute(text("CREATE TABLE ceiling_item (id INTEGER PRIMARY KEY, name VARCHAR(100), "
                                "value INTEGER)"))
        connection.execute(text("CREATE TABLE ceiling_write (id INTEGER PRIMARY KEY, "
                                "token VARCHAR(64) UNIQUE NOT NULL)" if engine.dialect.name == "sqlite"
                                else "CREATE TABLE ceiling_write (id SERIAL PRIMARY KEY, "
                                "token VARCHAR(64) UNIQUE NOT NULL)"))
        connection.execute(text("INSERT INTO ceiling_item (id, name, value) VALUES (:id, :name, :value)"),
                           [{"id": i, "name": f"item {i}", "value": i * 7} for i in range(1, ROWS + 1)])


@app.get("/hello")
def hello():
    return jsonify(hello="world")


@app.get("/read/<int:item_id>")
def read(item_id: int):
    with engine.connect() as connection:
        row = connection.execute(text("SELECT id, name, value FROM ceiling_item WHERE id = :id"),
                                 {"id": item_id}).first()
    if row is None:
        return jsonify(error="not found"), 404
    return jsonify(id=row.id, name=row.name, value=row.value)


@app.post("/insert")
def insert():
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO ceiling_write (token) VALUES (:token)"),
                           {"token": uuid.uuid4().hex})
    return jsonify(ok=True), 201


if __name__ == "__main__":
    prepare()
    print("ceiling tables ready")
