"""The application factory: one FastAPI app serving the JSON API and the back-office pages.

Workers are stateless: everything lives in the database (sessions, idempotency keys, outbox),
so ``onestore serve --workers N`` can run any number of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig

from onestore import __version__
from onestore.api import problems, system
from onestore.auth.token_cache import PrincipalCache
from onestore.db.database import Database
from onestore.events.bus import InProcessBus
from onestore.web.errors import error_page

_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
WEB_STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


def create_app(db: Database | None = None) -> FastAPI:
    db = db or Database()
    bus: InProcessBus | None = None
    if not db.settings.event_bus_url:
        # No external bus: deliver committed outbox events to in-process subscribers.
        bus = InProcessBus(db, background=db.settings.event_delivery == "background")
        db.on_events_committed(bus.after_commit)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if bus is not None and db.settings.event_delivery == "background":
            bus.start()
        yield
        if bus is not None:
            bus.close()  # let a delivery in progress finish

    app = FastAPI(
        lifespan=lifespan,
        title="onestore",
        version=__version__,
        summary="Unified commerce: one customer, one inventory, one order for every channel.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # FastAPI's native OpenTelemetry asks the global providers on every request whether
        # anyone listens (a tenth of a checkout's event-loop time); onestore's metrics are
        # Prometheus (/metrics), and tracing is switched on by ONESTORE_OPENTELEMETRY.
        telemetry=None if db.settings.opentelemetry else _NO_TELEMETRY,
    )
    app.state.db = db
    app.state.principals = PrincipalCache(db.settings.auth_cache_seconds, db.clock.now)
    if bus is not None:
        app.state.bus = bus
    problems.install(app, error_page)
    system.install_metrics(app)
    system.install_openapi(app)
    _include_contexts(app)
    app.include_router(system.router)
    app.mount(
        "/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger"
    )
    app.mount("/static", StaticFiles(directory=WEB_STATIC), name="static")
    return app


def _include_contexts(app: FastAPI) -> None:
    """Each context contributes its router; add new contexts here."""
    from onestore.auth.api import router as auth_router
    from onestore.auth.api import staff_router
    from onestore.catalog.api import router as catalog_router
    from onestore.inventory.api import router as inventory_router
    from onestore.inventory.buffers_api import router as buffers_router
    from onestore.inventory.counts_api import router as counts_router
    from onestore.inventory.transfers_api import router as transfers_router
    from onestore.pricing.api import pages as pricing_pages
    from onestore.pricing.api import router as pricing_router
    from onestore.web.routes import router as web_router

    # FastAPI tries the routers in this order, route by route, on every request: the
    # checkout's stock routes (the busiest by far) go first.
    app.include_router(inventory_router)
    app.include_router(auth_router)
    app.include_router(staff_router)
    app.include_router(catalog_router)
    app.include_router(buffers_router)
    app.include_router(counts_router)
    app.include_router(transfers_router)
    app.include_router(pricing_router)
    app.include_router(pricing_pages)
    app.include_router(web_router)
