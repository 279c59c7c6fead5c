"""Staff users and their API tokens."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import utcnow
from ..extensions import db


class User(UserMixin, db.Model):
    """A staff account. `roles` is a comma-separated subset of security.ROLES."""
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]

    def has_role(self, *names: str) -> bool:
        return bool(set(names) & set(self.role_list))

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class ApiToken(db.Model):
    """A bearer token for the JSON API. Only the SHA-256 of the token is stored."""
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship()
