"""What each person must bring and pay, computed from their situation (seed 002's lists).

Pure functions of plain values, so the booking page, the email and « Mes rendez-vous » say
exactly the same thing and the rules are tested as a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

SITUATIONS = {
    "premiere": "Première demande",
    "renouvellement": "Renouvellement",
    "perte": "Perte",
    "vol": "Vol",
}
TITLES = {"passeport": ("passeport",), "cni": ("cni",), "passeport_cni": ("passeport", "cni"),
          "retrait": ()}

PHOTO = ("Une planche de photographie d'identité de moins de 6 mois et parfaitement ressemblante, de "
         "face, tête nue (format 35 mm x 45 mm), norme ISO/IEC 19794-5:2005, en couleur, fond uni de "
         "couleur claire (bleu clair ou gris clair) : le fond blanc est interdit")
CURRENT_TITLE = "Le passeport ou la carte d'identité sécurisée (+ photocopie)"
BIRTH_CERTIFICATE = ("Un acte de naissance de moins de 3 mois (pas de carte d'identité, ou carte périmée "
                     "de plus de 2 ans) ; inutile si la commune de naissance a adhéré à la "
                     "dématérialisation des actes d'état civil (COMEDEC)")
ADDRESS_PROOF = "Un justificatif de domicile de moins de 1 an (+ photocopie)"
PREDEMANDE = "La pré-demande imprimée (ou son numéro)"
PARENT_ID = "La pièce d'identité du parent présent (+ photocopie)"
NOM_USAGE = ("Pour conserver le nom d'usage : l'autorisation des père et mère + la photocopie de la carte "
             "d'identité des père et mère")
DIVORCE = ("En cas de divorce ou de séparation : la photocopie du jugement de divorce, le(s) justificatif(s) "
           "sur la garde des enfants, la photocopie de la pièce d'identité et le justificatif de domicile "
           "du parent non présent")
LOSS = "La déclaration de perte, à établir au commissariat ou au guichet lors du dépôt de la demande"
THEFT = "La déclaration de vol, établie au commissariat ou à la gendarmerie"
COLLECTION_RECEIPT = "Le récépissé de dépôt de la demande"
COLLECTION_OLD_TITLE = "L'ancien titre, s'il est encore en votre possession"

WARNINGS = (
    "Présentez-vous à l'heure à votre rendez-vous.",
    "La présence du bénéficiaire au dépôt de la demande est obligatoire.",
    "Les mineurs, dont la présence est obligatoire, doivent venir accompagnés d'un représentant légal.",
    "Le dossier devra être constitué des originaux et des copies des pièces demandées, y compris des "
    "documents dématérialisés. Tout dossier incomplet sera refusé et un nouveau rendez-vous sera planifié.",
)
COLLECTION_WARNINGS = (
    "Tout titre d'identité doit être retiré dans un délai de 3 mois à compter de sa mise à disposition. "
    "Passé ce délai, le titre sera automatiquement détruit, sans possibilité de remboursement.",
    "De 12 à 18 ans, le bénéficiaire se présente avec l'un des titulaires de l'autorité parentale ; "
    "avant 12 ans, le titre peut être retiré par l'un des titulaires de l'autorité parentale.",
)


@dataclass(frozen=True)
class PersonSituation:
    name: str
    birth_date: date
    situation: str = "premiere"  # one of SITUATIONS
    has_valid_id: bool = True  # a secure identity card, valid or expired less than 2 years ago
    nom_usage: bool = False  # a minor keeping a nom d'usage
    separated_parents: bool = False  # a minor whose parents are divorced or separated


@dataclass(frozen=True)
class PersonChecklist:
    name: str
    age: int
    documents: tuple[str, ...]
    stamp_cents: int


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def stamp_cents(title: str, age: int, situation: str) -> int:
    """The timbre fiscal: passport 86 € (adult), 42 € (15 to 17 inclusive), 17 € (under 15);
    the identity card is free, except 25 € to replace a lost or stolen one."""
    if title == "passeport":
        return 8600 if age >= 18 else 4200 if age >= 15 else 1700
    if title == "cni":
        return 2500 if situation in ("perte", "vol") else 0
    return 0


def checklist(motif_kind: str, person: PersonSituation, on: date) -> PersonChecklist:
    age = age_on(person.birth_date, on)
    titles = TITLES[motif_kind]
    if not titles:
        docs = [COLLECTION_RECEIPT, COLLECTION_OLD_TITLE]
        if age < 18:
            docs.append(PARENT_ID)
        return PersonChecklist(person.name, age, tuple(docs), 0)
    docs = [PREDEMANDE, PHOTO]
    docs.append(CURRENT_TITLE if person.has_valid_id else BIRTH_CERTIFICATE)
    docs.append(ADDRESS_PROOF)
    if person.situation == "perte":
        docs.append(LOSS)
    if person.situation == "vol":
        docs.append(THEFT)
    if age < 18:
        docs.append(PARENT_ID)
        if person.nom_usage:
            docs.append(NOM_USAGE)
        if person.separated_parents:
            docs.append(DIVORCE)
    stamp = sum(stamp_cents(title, age, person.situation) for title in titles)
    return PersonChecklist(person.name, age, tuple(docs), stamp)


def euros(cents: int) -> str:
    """« 86 € », « 12,50 € »: the French way."""
    if cents % 100 == 0:
        return f"{cents // 100} €"
    return f"{cents // 100},{cents % 100:02d} €"
