"""Demo data: the seed's town (Meaux) with two lieux, so ``serve.sh`` shows bookable slots."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from portal import db
from portal.appointments.models import Guichet, Lieu, Motif, OpeningHours

PREDEMANDE_URL = "https://ants.gouv.fr/nos-missions/les-titres-geres-par-l-ants/passeport"
LIEUX = [
    ("Hôtel de ville de Meaux — Service des titres d'identité", "2 place de l'Hôtel de Ville, 77100 Meaux",
     "Accès de plain-pied par l'entrée latérale, ascenseur. Parking place de l'Hôtel de Ville. "
     "Besoin d'un accueil particulier lié à un handicap ou à la santé : 01 60 09 97 00.",
     ("Guichet 1", "Guichet 2", "Guichet 3"),
     [(d, time(9), time(12)) for d in range(6)] + [(d, time(13, 30), time(17)) for d in range(5)]),
    ("Mairie annexe de Beauval", "Avenue de la Victoire, 77100 Meaux",
     "Bus ligne A, arrêt Beauval. Locaux accessibles en fauteuil roulant.",
     ("Guichet unique",),
     [(d, time(9), time(12)) for d in (1, 3)] + [(d, time(14), time(17)) for d in (1, 2, 3)]),
]
MOTIFS = [
    ("passeport", "Passeport", 20),
    ("cni", "Carte nationale d'identité", 15),
    ("passeport_cni", "Passeport et carte d'identité", 30),
    ("retrait", "Retrait d'un titre", 10),
]
INTRO = {
    "passeport": "Dépôt d'une demande de passeport, après la pré-demande en ligne.",
    "cni": "Dépôt d'une demande de carte nationale d'identité, après la pré-demande en ligne.",
    "passeport_cni": "Les deux titres en un seul rendez-vous : une pré-demande pour chacun.",
    "retrait": "Retrait d'un titre mis à disposition (SMS reçu) : dans les 3 mois, sinon il est détruit.",
}


def create_demo_data() -> bool:
    """Idempotent: does nothing once a lieu exists. Commits."""
    if db.session.scalars(select(Lieu.id)).first() is not None:
        return False
    lieux = []
    for name, address, access, guichets, hours in LIEUX:
        lieu = Lieu(name=name, address=address, access_info=access, phone="01 60 09 97 29")
        lieu.guichets = [Guichet(name=g) for g in guichets]
        lieu.opening_hours = [OpeningHours(weekday=d, start=s, end=e) for d, s, e in hours]
        db.session.add(lieu)
        lieux.append(lieu)
    for kind, name, minutes in MOTIFS:
        db.session.add(Motif(kind=kind, name=name, minutes_per_person=minutes, intro=INTRO[kind],
                             predemande_url="" if kind == "retrait" else PREDEMANDE_URL,
                             min_delay_hours=2 if kind == "retrait" else 24, lieux=list(lieux)))
    db.session.commit()
    return True
