"""Who may do what in the back office: roles map to permissions, as data, in one place.

``permission_required("gerer_rendez_vous")`` guards a staff view. Anyone without the
permission (anonymous, a citizen, an organisation) gets a plain 404: the back office does
not reveal that it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

PERMISSIONS = {
    "gerer_rendez_vous": "Gérer les rendez-vous",
    "recevoir_rendez_vous": "Recevoir les rendez-vous (vue du jour)",
}
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "citizen": frozenset(),
    "organisation": frozenset(),
    "agent": frozenset({"recevoir_rendez_vous", "gerer_rendez_vous"}),
    "admin": frozenset(PERMISSIONS),
}


def has_permission(user, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission: {permission}")
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return permission in ROLE_PERMISSIONS.get(getattr(user, "role", ""), frozenset())


def permission_required(permission: str) -> Callable:
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission: {permission}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            if not has_permission(current_user, permission):
                abort(404)
            return view(*args, **kwargs)

        return guarded

    return decorator
