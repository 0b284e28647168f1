"""ASGI entry point for ``onestore serve`` (and any ASGI server): ``onestore.api.asgi:app``."""

from onestore.api.app import create_app

app = create_app()
