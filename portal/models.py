"""One place that imports every model module, for Alembic and the test schema."""

from __future__ import annotations


def import_all_models() -> None:
    import portal.accounts.models  # noqa: F401
    import portal.appointments.models  # noqa: F401
    import portal.core.models  # noqa: F401
    import portal.demarches.models  # noqa: F401
    import portal.exports.models  # noqa: F401
    import portal.mail.models  # noqa: F401
    import portal.notifications.models  # noqa: F401
    import portal.relations.models  # noqa: F401
    import portal.wallet.models  # noqa: F401
