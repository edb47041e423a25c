"""Mes préférences: one checkbox per kind that can be switched off."""

from __future__ import annotations

from wtforms import BooleanField

from portal.core.forms import Form as FlaskForm
from portal.notifications.services import ALWAYS_EMAILED, KIND_LABELS, KINDS

SWITCHABLE_KINDS = tuple(k for k in KINDS if k not in ALWAYS_EMAILED)


class PreferencesForm(FlaskForm):
    """Built with one BooleanField per switchable kind; security has no field at all, so no
    posted value can turn it off."""


for _kind in SWITCHABLE_KINDS:
    setattr(PreferencesForm, _kind, BooleanField(KIND_LABELS[_kind]))
