"""Strict JSON request bodies for every route.

Python's ``json`` accepts ``NaN`` and ``Infinity`` and turns ``0.1`` into a float; for a
commerce API both are wrong. Every JSON body is parsed here first: numbers with a fraction
become ``Decimal`` (so money fields can tell a JSON number from a decimal string and refuse
it), NaN/Infinity, duplicate keys, nesting deeper than 32 and bodies over the size limit are
refused with a problem that says which rule was broken.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from onestore.kernel.errors import MalformedRequest, PayloadTooLarge, ValidationFailed

MAX_DEPTH = 32
MAX_INT_DIGITS = 100


def _reject_constant(name: str) -> Any:
    raise MalformedRequest(f"{name} is not allowed in JSON; send a finite number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedRequest(f"duplicate key {key!r} in JSON object")
        result[key] = value
    return result


NUL_REASON = "must not contain NUL characters"


def _check_tree(value: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH and NUL characters anywhere, naming the field.

    PostgreSQL text cannot hold NUL, so letting one through turns a bad request into a 500.
    """
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        node, level, path = stack.pop()
        if level > MAX_DEPTH:
            raise MalformedRequest(f"JSON nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, str):
            if "\x00" in node:
                raise ValidationFailed.on(path or "body", NUL_REASON)
        elif isinstance(node, dict):
            for key, child in node.items():
                child_path = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    raise ValidationFailed.on(path or "body", f"a key {NUL_REASON}")
                stack.append((child, level + 1, child_path))
        elif isinstance(node, list):
            stack.extend(
                (child, level + 1, f"{path}.{i}" if path else str(i))
                for i, child in enumerate(node)
            )


def check_url(request: Request) -> None:
    """Refuse NUL characters in the path or the query string, naming the parameter."""
    if "\x00" in request.scope["path"]:
        raise ValidationFailed.on("path", NUL_REASON)
    raw: bytes = request.scope.get("query_string", b"")
    if b"%00" not in raw and b"\x00" not in raw:
        return  # nothing to decode and look through (the usual case: every request asks)
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise ValidationFailed.on(f"query.{name.replace(chr(0), '')}", NUL_REASON)


def check_form(body: bytes) -> None:
    """Refuse NUL characters in an urlencoded or multipart form body."""
    if b"%00" in body or b"\x00" in body:
        raise ValidationFailed.on("form", NUL_REASON)


def _bounded_int(text: str) -> int:
    # Python refuses to convert integers over 4300 digits with a bare ValueError (a 500).
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise MalformedRequest(f"JSON integer longer than {MAX_INT_DIGITS} digits")
    return int(text)


def parse_strict(raw: bytes) -> Any:
    try:
        value = json.loads(
            raw,
            parse_float=Decimal,
            parse_int=_bounded_int,
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicates,
        )
    except RecursionError:
        raise MalformedRequest(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError and friends
        raise MalformedRequest(f"body is not valid JSON: {exc}") from None
    _check_tree(value)
    return value


async def read_body_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class StrictJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            check_url(request)
            if request.method in ("POST", "PUT", "PATCH", "DELETE"):
                limit = request.app.state.db.settings.max_body_bytes
                body = await read_body_capped(request, limit)
                request._body = body
                content_type = request.headers.get("content-type", "application/json")
                if body and _is_json(content_type):
                    request._json = parse_strict(body)
                elif body and content_type.lower().startswith(_FORM_TYPES):
                    check_form(body)
            return await original(request)

        return handler
