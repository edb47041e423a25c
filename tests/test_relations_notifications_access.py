"""Every relation and notification URL that names an object answers 404 to any other
account, whatever its role: the test walks the URL map, so a new route is covered too."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal import db as database
from portal.notifications import services as notifications
from portal.notifications.models import Notification
from portal.relations import services as relations
from portal.relations.models import Relation
from tests.conftest import PASSWORD, post_form

OBJECT_ARGS = {"relation_id", "notification_id"}


def object_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("relations", "notifications") and rule.arguments & OBJECT_ARGS:
            yield rule


@pytest.mark.parametrize("role", ["citizen", "organisation", "agent", "admin"])
def test_every_object_url_is_404_for_another_account(app, client, create_user, auth, role):
    owner = create_user(email="owner@example.org")
    with app.test_request_context():
        relation = relations.create_relation(owner, "enfant", {"civilite": "Mme", "nom": "Martin",
                                                               "prenom": "Léa", "date_naissance": date(2015, 7, 14)})
        notification = notifications.notify(owner, "status", "Secret", "Contenu secret")
        database.session.commit()
        ids = {"relation_id": relation.id, "notification_id": notification.id}
    create_user(email="intrus@example.org", role=role)
    auth.login("intrus@example.org", PASSWORD)

    rules = list(object_routes(app))
    assert {r.endpoint for r in rules} >= {"relations.edit", "relations.delete", "notifications.show"}
    for rule in rules:
        url = rule.build({name: ids[name] for name in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            if method == "GET":
                response = client.get(url)
            else:
                response = post_form(client, url, {"nom": "Pirate", "prenom": "Pirate", "kind": "enfant"})
            assert response.status_code == 404, (method, url)
            assert "Secret" not in response.get_data(as_text=True)

    with app.app_context():
        kept = database.session.scalar(select(Relation))
        assert kept is not None and kept.prenom == "Léa"
        assert database.session.scalar(select(Notification)).read_at is None
