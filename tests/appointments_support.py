"""Shared set-up for the rendez-vous tests: a town with a lieu open every day, and motifs."""

from __future__ import annotations

from datetime import date, time

from portal import db as database
from portal.appointments.models import Guichet, Lieu, Motif, OpeningHours

PREDEMANDE = "1A2B3C4D5E"


def make_town(app, guichets: int = 1, minutes: int = 15, kind: str = "passeport", hours=((9, 0), (12, 0)),
              min_delay_hours: int = 0, max_delay_days: int = 21, change_limit_hours: int = 24,
              public_days=range(7)) -> dict:
    """A lieu open every day (public holidays still close it) and one motif offered there."""
    with app.app_context():
        lieu = Lieu(name="Hôtel de ville", address="2 place de l'Hôtel de Ville, 77100 Meaux",
                    access_info="Entrée de plain-pied.", phone="01 60 09 97 29")
        lieu.guichets = [Guichet(name=f"Guichet {i + 1}") for i in range(guichets)]
        lieu.opening_hours = [OpeningHours(weekday=d, start=time(*hours[0]), end=time(*hours[1]))
                              for d in public_days]
        motif = Motif(kind=kind, name={"passeport": "Passeport", "cni": "Carte nationale d'identité",
                                       "retrait": "Retrait d'un titre"}.get(kind, "Passeport et CNI"),
                      minutes_per_person=minutes, min_delay_hours=min_delay_hours,
                      max_delay_days=max_delay_days, change_limit_hours=change_limit_hours,
                      predemande_url="https://ants.gouv.fr/", lieux=[lieu])
        database.session.add_all([lieu, motif])
        database.session.commit()
        return {"lieu": lieu.id, "motif": motif.id, "guichets": [g.id for g in lieu.guichets]}


def adult_birth() -> str:
    return "14/07/1985"


def child_birth(years: int) -> date:
    today = date.today()
    return date(today.year - years, 1, 1) if (today.month, today.day) >= (1, 1) else date(today.year - years - 1, 1, 1)
