"""A person's démarches for the page benchmarks: drafts, and requests with a status history.

Rows are written directly (no procedure filled in step by step): the pages only read them.
"""

from __future__ import annotations

from datetime import timedelta

from portal import db
from portal.db import utcnow
from portal.demarches.models import Dossier, DossierEvent

HISTORY = [("deposee", None), ("en_instruction", "deposee"), ("controle", "en_instruction"),
           ("accordee", "controle")]


def add_sample_dossiers(user_id: int, drafts: int = 12, requests: int = 12) -> list[str]:
    """Commits ``drafts`` drafts and ``requests`` CMI requests; returns the requests' references."""
    now = utcnow()
    references = []
    for index in range(drafts):
        db.session.add(Dossier(user_id=user_id, procedure_id="cmi", answers={"nom": "Martin"},
                               current_step="identite", updated_at=now - timedelta(days=index)))
    for index in range(requests):
        reference = f"CMI-{now.year}-{900000 + index:06d}"
        submitted = now - timedelta(days=30 + index)
        dossier = Dossier(user_id=user_id, procedure_id="cmi", answers={"nom": "Martin"},
                          reference=reference, submitted_at=submitted, status="accordee",
                          status_changed_at=submitted + timedelta(days=9), decided_at=submitted + timedelta(days=9),
                          status_data={"mentions_accordees": ["stationnement"], "duree": "permanente"})
        for day, (status, previous) in enumerate(HISTORY):
            dossier.events.append(DossierEvent(status=status, previous_status=previous, by_label="Agent",
                                               created_at=submitted + timedelta(days=3 * day)))
        db.session.add(dossier)
        references.append(reference)
    db.session.commit()
    return references
