"""A real onestore server for browser tests and screenshots: uvicorn on a loopback port.

The server runs in a background thread of the test process, on a socket bound before it
starts (no race for the port), against its own migrated SQLite file.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from onestore.api.app import create_app
from onestore.auth import service as auth_service
from onestore.auth.model import Grant, Role
from onestore.db.database import Database
from onestore.db.migrate import upgrade

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def migrated_database(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    return db


def add_staff(db: Database, username: str, password: str, role: Role = Role.ADMIN) -> None:
    with db.uow() as uow:
        auth_service.create_staff_user(
            uow,
            username=username,
            display_name=username.replace(".", " ").title(),
            password=password,
            grants=[Grant(role, None)],
        )
        uow.commit()


@contextmanager
def serving(db: Database) -> Iterator[str]:
    """Serve ``create_app(db)`` until the block ends; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(db), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
