"""A relation: a natural person (child, spouse, parent, other) or a legal person."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow

NATURAL_KINDS = ("enfant", "conjoint", "parent", "autre")
LEGAL_KINDS = ("association", "entreprise")
KINDS = NATURAL_KINDS + LEGAL_KINDS


class Relation(Base):
    """One row per relation. Natural persons use the identity columns, legal persons the
    company columns; the postal address is shared (required only for legal persons)."""

    __tablename__ = "relations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # one of KINDS

    civilite: Mapped[str | None] = mapped_column(String(10))
    nom: Mapped[str | None] = mapped_column(String(100))
    prenom: Mapped[str | None] = mapped_column(String(100))
    date_naissance: Mapped[date | None] = mapped_column(Date)

    raison_sociale: Mapped[str | None] = mapped_column(String(200))
    siret: Mapped[str | None] = mapped_column(String(14))

    adresse: Mapped[str | None] = mapped_column(String(250))
    code_postal: Mapped[str | None] = mapped_column(String(5))
    commune: Mapped[str | None] = mapped_column(String(120))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_natural(self) -> bool:
        return self.kind in NATURAL_KINDS

    @property
    def is_legal(self) -> bool:
        return self.kind in LEGAL_KINDS

    @property
    def display_name(self) -> str:
        if self.is_legal:
            return self.raison_sociale or ""
        return " ".join(p for p in (self.prenom, self.nom) if p)
