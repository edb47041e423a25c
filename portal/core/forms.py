"""The base of every form: text fields only ever receive text.

Flask-WTF hands a form the uploaded files mixed with the text fields, and a JSON body as
the form's data, so a file part or a JSON object posted where text is expected reached the
validators as a FileStorage or a dict (a 500). Here a form reads text from the urlencoded or
multipart body, and files only into its file fields; a JSON body is no form data at all.
NUL characters, which no one types and PostgreSQL cannot store in text, are dropped.
"""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted
from werkzeug.datastructures import ImmutableMultiDict
from wtforms.fields import FileField


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if formdata is not _Auto:
                return formdata
            if not _is_submitted():
                return None
            file_fields = {field.name for field in form if isinstance(field, FileField)}
            items = [(name, value.replace("\x00", "")) for name, value in request.form.items(multi=True)]
            items += [(name, value) for name, value in request.files.items(multi=True) if name in file_fields]
            return ImmutableMultiDict(items)
