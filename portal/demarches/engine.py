"""The rules engine: conditions, field validation, cross-field rules, computed values.

Answers are stored as the person typed them (strings, lists for checkboxes, dicts for an
address or a file, lists of dicts for a repeatable group), so invalid input is never lost;
the engine converts on the fly when it compares or validates.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.core.dates import add_months, parse_date, relative_date  # noqa: F401 (services use engine.add_months)
from portal.core.identifiers import siret_is_valid
from portal.demarches.definitions import Field, Procedure, Step

Answers = dict[str, Any]
PHONE_RE = re.compile(r"^(?:0|\+33|0033)[1-9]\d{8}$")
POSTCODE_RE = re.compile(r"^\d{5}$")


# --- conversions ---------------------------------------------------------------------------


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value or (isinstance(value, dict) and all(is_empty(v) for v in value.values()))
    return False


def parse_number(raw: Any, decimal: bool = True) -> Decimal | None:
    text = str(raw).strip().replace(" ", "").replace("\u202f", "")
    if decimal:
        text = text.replace(",", ".")
        if not re.fullmatch(r"-?\d+(?:\.\d+)?", text):
            return None
    elif not re.fullmatch(r"-?\d+", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def comparable(field: Field | None, value: Any) -> Any:
    """A value fit for comparison: numbers and dates converted, text stripped."""
    if field is None:
        return value
    if field.type in ("integer", "decimal"):
        return parse_number(value)
    if field.type == "date":
        return parse_date(value)
    if isinstance(value, str):
        return value.strip()
    return value


# --- conditions ----------------------------------------------------------------------------


def evaluate(cond: dict | None, answers: Answers, fields: dict[str, Field],
             context: dict | None = None) -> bool:
    """True when the condition holds. ``$name`` targets read the context (linked request...)."""
    if cond is None:
        return True
    if "all" in cond:
        return all(evaluate(c, answers, fields, context) for c in cond["all"])
    if "any" in cond:
        return any(evaluate(c, answers, fields, context) for c in cond["any"])
    if "not" in cond:
        return not evaluate(cond["not"], answers, fields, context)
    target = cond["field"]
    if target.startswith("$"):
        field, value = None, (context or {}).get(target[1:])
    else:
        field, value = fields.get(target), answers.get(target)
    op = next(k for k in cond if k != "field")
    expected = cond[op]
    if op == "filled":
        return (not is_empty(value)) == bool(expected)
    if is_empty(value):
        return op == "not_equals"
    if op == "contains":
        return str(expected) in (value if isinstance(value, list) else [value])
    actual = comparable(field, value)
    if op in ("equals", "not_equals"):
        same = str(actual) == str(expected) if not isinstance(actual, Decimal | date) else \
            actual == comparable(field, expected)
        return same if op == "equals" else not same
    if op == "one_of":
        return str(actual) in [str(v) for v in expected]
    bound = comparable(field, expected) if field else expected
    if actual is None or bound is None:
        return False
    try:
        return {"gt": actual > bound, "gte": actual >= bound, "lt": actual < bound,
                "lte": actual <= bound}[op]
    except TypeError:
        return False


def _shown_answers(procedure: Procedure, answers: Answers, basis: Answers, context: dict | None) -> Answers:
    """The ``answers`` of the fields that ``basis`` shows (step and field conditions)."""
    fields = procedure.all_fields()
    kept: Answers = {}
    for step in procedure.steps:
        if not evaluate(step.when, basis, fields, context):
            continue
        for f in step.fields:
            if f.has_value and f.id in answers and evaluate(f.get("when"), basis, fields, context):
                kept[f.id] = answers[f.id]
    return kept


def effective_answers(procedure: Procedure, answers: Answers, context: dict | None = None) -> Answers:
    """The answers of the shown fields only. Conditions read these, never the answer a hidden
    field still holds: hiding a field can hide the fields that depend on it, so the pruning
    is repeated until nothing changes (« sous-mentions » hidden hides « aidants »)."""
    basis = answers
    for _ in range(len(procedure.all_fields()) + 2):  # pragma: no mutate (a bound against oscillation: any bound above the number of fields is the same)
        kept = _shown_answers(procedure, answers, basis, context)
        if kept == basis:
            break
        basis = kept
    return basis


def visible_steps(procedure: Procedure, answers: Answers, context: dict | None = None) -> list[Step]:
    fields, basis = procedure.all_fields(), effective_answers(procedure, answers, context)
    return [s for s in procedure.steps if evaluate(s.when, basis, fields, context)]


def visible_fields(step: Step, procedure: Procedure, answers: Answers,
                   context: dict | None = None) -> list[Field]:
    fields, basis = procedure.all_fields(), effective_answers(procedure, answers, context)
    return [f for f in step.fields if evaluate(f.get("when"), basis, fields, context)]


def computed_text(field: Field, answers: Answers, procedure: Procedure,
                  context: dict | None = None) -> str:
    """The first matching case's text (or ``text``), with ``{field}`` replaced by answers."""
    fields = procedure.all_fields()
    answers = effective_answers(procedure, answers, context)
    text = field.get("text", "")
    for case in field.get("cases") or []:
        if evaluate(case.get("when"), answers, fields, context):
            text = case.get("text", "")
            break
    values = {**{k: display_value(fields[k], v) for k, v in answers.items() if k in fields},
              **{k: str(v) for k, v in (context or {}).items()}}
    return re.sub(r"\{([a-z_]+)\}", lambda m: values.get(m.group(1), ""), text)


def display_value(field: Field, value: Any) -> str:
    """An answer as the person reads it on the summary and the receipt."""
    if is_empty(value):
        return ""
    if field.type in ("choice", "yesno", "linked_request"):
        return str(field.choice_label(value))  # a linked request has no choices: its reference
    if field.type == "checkboxes":
        return ", ".join(field.choice_label(v) for v in value)
    if field.type == "date":
        parsed = parse_date(value)
        return parsed.strftime("%d/%m/%Y") if parsed else str(value)
    if field.type == "address":
        return ", ".join(p for p in (value.get("adresse"), " ".join(
            p for p in (value.get("code_postal"), value.get("commune")) if p)) if p)
    if field.type == "file":
        return value.get("name", "")
    if field.type == "group":
        return "; ".join(", ".join(display_value(c, item.get(c.id)) for c in field.children
                                   if not is_empty(item.get(c.id))) for item in value)
    return str(value)


# --- lengths -------------------------------------------------------------------------------

# Every typed answer has a longest length: the definition's ``max_length``, or these. An answer
# longer than that is refused when it is saved (autosave or step post), not only at validation.
DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 5000, "email": 254, "phone": 30, "siret": 30,
                      "integer": 30, "decimal": 30, "date": 30}
ADDRESS_MAX_LENGTH = {"adresse": 200, "code_postal": 10, "commune": 100}
CHOICE_MAX_LENGTH = 100  # a choice's value, a linked request's reference


def max_length(field: Field) -> int | None:
    declared = field.get("max_length")
    return int(declared) if declared is not None else DEFAULT_MAX_LENGTH.get(field.type)


def _too_long(label: str, limit: int, length: int) -> str:
    return (f"« {label} » doit comporter au plus {limit} caractères : votre saisie ({length} "
            "caractères) n'a pas été enregistrée.")


def oversized(field: Field, value: Any, prefix: str = "") -> dict[str, str]:
    """Errors for parts of an answer longer than the field allows, keyed like ``validate_value``."""
    key = prefix + field.id
    if field.type == "group":
        errors: dict[str, str] = {}
        for index, item in enumerate(value if isinstance(value, list) else []):
            for child in field.children:
                errors.update(oversized(child, item.get(child.id) if isinstance(item, dict) else None,
                                        f"{key}-{index}-"))
        return errors
    if field.type == "address":
        value = value if isinstance(value, dict) else {}
        return {f"{key}-{part}": _too_long(field.label, limit, len(str(value.get(part) or "").strip()))
                for part, limit in ADDRESS_MAX_LENGTH.items()
                if len(str(value.get(part) or "").strip()) > limit}
    if field.type == "checkboxes":
        values = value if isinstance(value, list) else [value]
        if len(values) > len(field.choices) or any(len(str(v)) > CHOICE_MAX_LENGTH for v in values):
            return {key: f"Sélectionnez des réponses proposées pour « {field.label} »."}
        return {}
    limit = CHOICE_MAX_LENGTH if field.type in ("choice", "yesno", "linked_request") else max_length(field)
    length = len(str(value).strip()) if isinstance(value, str) else 0
    return {key: _too_long(field.label, limit, length)} if limit is not None and length > limit else {}


def oversized_answers(step: Step, typed: Answers) -> dict[str, str]:
    """The length errors of a posted step's answers (those answers are not saved)."""
    errors: dict[str, str] = {}
    for f in step.fields:
        if f.id in typed:
            errors.update(oversized(f, typed[f.id]))
    return errors


# --- validation ----------------------------------------------------------------------------


class Settings:
    """What validation needs from the deployment: today and the département."""

    def __init__(self, today: date, departement: str = "", departement_name: str = ""):
        self.today, self.departement, self.departement_name = today, departement, departement_name


def _required_message(field: Field) -> str:
    if field.get("required_message"):
        return field.get("required_message")
    if field.type in ("choice", "yesno", "checkboxes", "linked_request"):
        return f"Sélectionnez une réponse pour « {field.label} »."
    if field.type == "file":
        return f"Ajoutez le document « {field.label} »."
    return f"Renseignez « {field.label} »."


def validate_value(field: Field, value: Any, settings: Settings, prefix: str = "") -> dict[str, str]:
    """Errors for one field, keyed by the input's path (``id``, ``id-code_postal``...)."""
    key = prefix + field.id
    if is_empty(value) and not (field.type == "group" and field.get("min_items")):
        if field.required:
            target = key + ("-adresse" if field.type == "address" else "")
            return {target: _required_message(field)}
        return {}
    t = field.type
    if t in ("text", "textarea", "email", "phone", "siret"):
        text = str(value).strip()
        if t == "email":
            from email_validator import EmailNotValidError, validate_email

            try:
                validate_email(text, check_deliverability=False)
            except EmailNotValidError:
                return {key: "Saisissez une adresse email valide, par exemple nom@exemple.fr."}
        if t == "phone" and not PHONE_RE.match(re.sub(r"[\s.\-]", "", text)):
            return {key: "Saisissez un numéro de téléphone français, par exemple 06 12 34 56 78."}
        if t == "siret":
            digits = re.sub(r"\s", "", text)
            if not re.fullmatch(r"\d{14}", digits):
                return {key: "Le numéro SIRET comporte 14 chiffres."}
            if not siret_is_valid(digits):
                return {key: "Ce numéro SIRET n'existe pas : vérifiez les 14 chiffres (clé de contrôle incorrecte)."}
        lo, hi = field.get("min_length"), max_length(field)
        if lo is not None and len(text) < lo:
            return {key: f"« {field.label} » doit comporter au moins {lo} caractères."}
        if hi is not None and len(text) > hi:
            return {key: f"« {field.label} » doit comporter au plus {hi} caractères."}
        if field.get("pattern") and not re.fullmatch(field.get("pattern"), text):
            return {key: field.get("pattern_message")}
        return {}
    if t in ("integer", "decimal"):
        number = parse_number(value, decimal=t == "decimal")
        if number is None:
            return {key: "Saisissez un nombre entier." if t == "integer"
                    else "Saisissez un nombre, par exemple 12,5."}
        lo, hi = field.get("min"), field.get("max")
        if (lo is not None and number < Decimal(str(lo))) or (hi is not None and number > Decimal(str(hi))):
            if lo is not None and hi is not None:
                return {key: f"« {field.label} » doit être compris entre {lo} et {hi}."}
            if lo is not None:
                return {key: f"« {field.label} » doit être supérieur ou égal à {lo}."}
            return {key: f"« {field.label} » doit être inférieur ou égal à {hi}."}
        return {}
    if t == "date":
        parsed = parse_date(value)
        if parsed is None:
            return {key: "Saisissez une date valide, par exemple 27/03/1950."}
        if field.get("min_date"):
            lo = relative_date(field.get("min_date"), settings.today)
            if parsed < lo:
                return {key: f"La date doit être le {lo:%d/%m/%Y} ou après."}
        if field.get("max_date"):
            hi = relative_date(field.get("max_date"), settings.today)
            if parsed > hi:
                if hi == settings.today:
                    return {key: "La date doit être aujourd'hui ou dans le passé."}
                return {key: f"La date doit être le {hi:%d/%m/%Y} ou avant."}
        return {}
    if t in ("choice", "yesno"):
        if str(value) not in {c["value"] for c in field.choices}:
            return {key: f"Sélectionnez une réponse proposée pour « {field.label} »."}
        return {}
    if t == "checkboxes":
        values = value if isinstance(value, list) else [value]
        allowed = {c["value"] for c in field.choices}
        if any(v not in allowed for v in values):
            return {key: f"Sélectionnez des réponses proposées pour « {field.label} »."}
        lo, hi = field.get("min_items"), field.get("max_items")
        if lo is not None and len(values) < lo:
            return {key: f"Sélectionnez au moins {lo} réponse(s) pour « {field.label} »."}
        if hi is not None and len(values) > hi:
            return {key: f"Sélectionnez au plus {hi} réponse(s) pour « {field.label} »."}
        return {}
    if t == "address":
        errors: dict[str, str] = {}
        value = value if isinstance(value, dict) else {}
        if not str(value.get("adresse") or "").strip():
            errors[key + "-adresse"] = "Renseignez le numéro et le nom de la voie."
        code = str(value.get("code_postal") or "").strip()
        if not POSTCODE_RE.match(code):
            errors[key + "-code_postal"] = "Saisissez un code postal à 5 chiffres, par exemple 62000."
        elif field.get("in_departement") and settings.departement and \
                not code.startswith(settings.departement):
            errors[key + "-code_postal"] = (
                f"Votre adresse doit se trouver dans le département {settings.departement_name} "
                f"({settings.departement}) : la demande se fait auprès du département où vous résidez.")
        if not str(value.get("commune") or "").strip():
            errors[key + "-commune"] = "Renseignez la commune."
        return errors
    if t == "group":
        items = value if isinstance(value, list) else []
        errors = {}
        lo, hi = field.get("min_items"), field.get("max_items")
        noun = field.get("item_label", "élément")
        if lo is not None and len(items) < lo:
            errors[key] = f"Ajoutez au moins {lo} {noun}(s)."
        if hi is not None and len(items) > hi:
            errors[key] = f"Vous ne pouvez pas ajouter plus de {hi} {noun}(s)."
        for index, item in enumerate(items):
            for child in field.children:
                errors.update(validate_value(child, item.get(child.id), settings, f"{key}-{index}-"))
        return errors
    return {}


def validate_step(step: Step, procedure: Procedure, answers: Answers, settings: Settings,
                  context: dict | None = None) -> dict[str, str]:
    """Every error of the visible fields of a step, then its cross-field rules."""
    errors: dict[str, str] = {}
    fields = procedure.all_fields()
    for f in visible_fields(step, procedure, answers, context):
        if f.has_value:
            errors.update(validate_value(f, answers.get(f.id), settings))
        if f.type == "linked_request" and f.id not in errors and not is_empty(answers.get(f.id)):
            allowed = {c["value"] for c in (context or {}).get(f"choices_{f.id}", [])}
            if str(answers.get(f.id)) not in allowed:
                errors[f.id] = f"Sélectionnez une demande proposée pour « {f.label} »."
    basis = effective_answers(procedure, answers, context)
    for rule in step.rules:
        if rule.get("level", "error") == "warning":
            continue  # shown as a notice (definitions._with_warnings), never an error
        target = rule.get("field") or step.fields[0].id
        if target not in errors and evaluate(rule["if"], basis, fields, context):
            errors[target] = rule["message"]
    return errors


def warnings_to_read(step: Step, procedure: Procedure, answers: Answers, shown_before: set[str],
                     context: dict | None = None) -> list[Field]:
    """The warning notices the step now shows that were not on the page the person saw: without
    JavaScript, saving shows the step again with them instead of going on unread."""
    return [f for f in visible_fields(step, procedure, answers, context)
            if f.get("level") == "warning" and f.id not in shown_before]


def validate_all(procedure: Procedure, answers: Answers, settings: Settings,
                 context: dict | None = None) -> dict[str, dict[str, str]]:
    """Errors per step id, over the visible steps only (the final check before submission)."""
    result = {}
    for step in visible_steps(procedure, answers, context):
        errors = validate_step(step, procedure, answers, settings, context)
        if errors:
            result[step.id] = errors
    return result


def prune_hidden(procedure: Procedure, answers: Answers, context: dict | None = None) -> Answers:
    """The answers to keep at submission: hidden steps and fields are dropped."""
    return effective_answers(procedure, answers, context)


# --- reading a posted step -----------------------------------------------------------------


def read_field(field: Field, form, prefix: str = "") -> Any:
    """The raw answer for one field from a posted form (a MultiDict)."""
    name = prefix + field.id
    if field.type == "checkboxes":
        return [v for v in form.getlist(name) if v]
    if field.type == "address":
        return {part: form.get(f"{name}-{part}", "").strip()
                for part in ("adresse", "code_postal", "commune")}
    if field.type == "group":
        count = parse_number(form.get(f"{name}-count"), decimal=False) or 0
        items = []
        for index in range(min(int(count), 100)):
            if form.get(f"{name}-{index}-present") is None:
                continue
            item = {c.id: read_field(c, form, f"{name}-{index}-") for c in field.children}
            items.append({k: "" if v is None else v for k, v in item.items()})
        return items
    value = form.get(name)
    return value if value is None else value.replace("\r\n", "\n")


def form_has_field(field: Field, form) -> bool:
    """Whether the posted form carried this field (autosave sends only part of a step)."""
    name = field.id
    if field.type == "address":
        return f"{name}-adresse" in form or f"{name}-code_postal" in form
    if field.type == "group":
        return f"{name}-count" in form
    if field.type == "checkboxes":
        return name in form or f"{name}-present" in form
    return name in form


def prefill(procedure: Procedure, user) -> Answers:
    """Answers taken from the account's personal information (``prefill: nom``...)."""
    answers: Answers = {}
    for f in procedure.all_fields().values():
        source = f.get("prefill")
        if not source:
            continue
        value = getattr(user, source, None)
        if value is None or value == "":
            continue
        if f.type == "address":
            answers[f.id] = {"adresse": user.adresse or "", "code_postal": user.code_postal or "",
                             "commune": user.commune or ""}
        elif isinstance(value, date):
            answers[f.id] = value.isoformat()
        elif f.type == "choice" and f.choices and str(value) not in {c["value"] for c in f.choices}:
            continue
        else:
            answers[f.id] = str(value)
    return answers
