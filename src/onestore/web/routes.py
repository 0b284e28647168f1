"""The pages' router, included by ``api/app.py``: the root redirect plus each page area.

Each area lives in its own module (``login``, ``backoffice``, ``stock``, ``pos`` — the till —
and ``shop`` — the shopper's cart) and brings its own router, so this file only says which
areas exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse

from onestore.api.security import public
from onestore.web import backoffice, login, pos, shop, stock

router = APIRouter(include_in_schema=False)


@router.get("/", dependencies=[Depends(public)])
def root() -> RedirectResponse:
    """People who type the bare address want the back office (it sends them to sign in)."""
    return RedirectResponse("/backoffice", status_code=303)


router.include_router(login.router)
router.include_router(backoffice.router)
router.include_router(stock.router)
router.include_router(pos.router)
router.include_router(shop.router)
