"""French plurals, the site map and honest ``lang`` attributes."""

from __future__ import annotations

import re

from tests.conftest import page, post_form

# GET pages without arguments that are not pages a person navigates to (or only reached by a link
# sent to them): the site map is checked against every other route, so a new page must be listed.
NOT_IN_PLAN = {"pages.theme_css", "notifications.badge", "mail.outbox", "accounts.registration_sent",
               "accounts.first_connection", "static", "pages.static_page", "pages.home",
               # the booking journey's inner steps (reached from « Prendre rendez-vous ») and the
               # staff's pages, which are not public
               "appointments.who", "appointments.details", "appointments.documents",
               "appointments.place", "appointments.slot", "appointments.summary",
               "appointments_staff.index", "appointments_staff.lieu_form", "appointments_staff.motif_form"}


def test_counts_follow_french_plural_rules(client):
    assert "0 démarche trouvée pour « zzzz »" in page(client.get("/demarches?q=zzzz"))
    assert "1 démarche trouvée pour « duplicata »" in page(client.get("/demarches?q=duplicata"))
    assert re.search(r"[2-9] démarches trouvées pour « cmi »", page(client.get("/demarches?q=cmi")))


def test_counts_in_english_keep_english_rules(client):
    post_form(client, "/langue", {"lang": "en", "next": "/demarches"})
    text = page(client.get("/demarches?q=zzzz"))
    assert "0 démarche trouvée" not in text


def test_the_site_map_lists_every_public_page(app, client):
    text = client.get("/plan-du-site").get_data(as_text=True)
    links = set(re.findall(r'href="([^"#?]+)"', text))
    missing = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint in NOT_IN_PLAN \
                or rule.endpoint.startswith("mail."):
            continue
        if rule.rule not in links:
            missing.append(rule.rule)
    assert missing == []
    for path in ("/demarches", "/mes-demarches", "/demarches/cmi_eligibilite", "/demarches/cmi",
                 "/compte/mes-donnees", "/mentions-legales", "/accessibilite"):
        assert path in links, path


def test_untranslated_content_is_marked_french(client):
    post_form(client, "/langue", {"lang": "en", "next": "/"})
    text = client.get("/cgu").get_data(as_text=True)  # not translated into English
    assert '<html lang="en">' in text
    assert re.search(r'<div lang="fr">\s*<h1>Conditions générales', text)
    login = client.get("/connexion").get_data(as_text=True)  # translated
    assert 'Log in' in login and '<div lang="fr">' not in login
    post_form(client, "/langue", {"lang": "fr", "next": "/"})
    assert '<div lang="fr">' not in client.get("/cgu").get_data(as_text=True)  # French page: no need
