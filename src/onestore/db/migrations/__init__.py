"""Alembic migrations, shipped inside the package so an installed onestore can upgrade."""
