"""Request and response bodies of the auth API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from onestore.auth.model import Role

Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=200)]
"""A password exactly as typed: the model-wide whitespace stripping must not touch it, or the
API and the login page would disagree about what the password is."""

NewPassword = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=10, max_length=200)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TokenRequest(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: Password
    name: str = Field(default="api", min_length=1, max_length=100)


class CustomerTokenRequest(Strict):
    email: str = Field(min_length=3, max_length=254)
    password: Password
    name: str = Field(default="storefront", min_length=1, max_length=100)


class TokenOut(BaseModel):
    id: str
    token: str = Field(description="Shown once. Send as 'Authorization: Bearer <token>'.")


class GrantIn(Strict):
    role: Role
    location_id: str | None = Field(default=None, max_length=26)


class StaffUserIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    display_name: str = Field(min_length=1, max_length=200)
    password: NewPassword
    grants: list[GrantIn] = Field(min_length=1, max_length=50)


class GrantOut(BaseModel):
    role: Role
    location_id: str | None


class PrincipalOut(BaseModel):
    kind: str
    id: str
    name: str
    grants: list[GrantOut]
    permissions: list[str]


class StaffUserOut(BaseModel):
    id: str
    username: str
    display_name: str
    is_active: bool
    created_at: datetime
    grants: list[GrantOut]
