"""Procedure definitions: YAML files in ``procedures/``, checked before the portal starts.

A definition is data, not code: adding a procedure needs no Python. Every error names the
file, the step and the field so the person who wrote the YAML can fix it at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from portal.core.dates import RELATIVE_DATE

PROCEDURES_DIR = Path(__file__).resolve().parent / "procedures"

VALUE_TYPES = {
    "text", "textarea", "email", "phone", "date", "integer", "decimal", "choice", "checkboxes",
    "yesno", "address", "siret", "file", "group", "linked_request",
}
DISPLAY_TYPES = {"info", "computed"}
FIELD_TYPES = VALUE_TYPES | DISPLAY_TYPES
PROFILE_FIELDS = {"civilite", "nom", "prenom", "date_naissance", "lieu_naissance", "adresse",
                  "code_postal", "commune", "telephone", "email",
                  "raison_sociale", "siret"}  # these two from a legal-person beneficiary only
COMPARISONS = {"equals", "not_equals", "one_of", "contains", "gt", "gte", "lt", "lte", "filled"}
LOGICAL = {"all", "any", "not"}
AUDIENCES = {"citizen", "organisation"}
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")

FIELD_KEYS = {
    "id", "type", "label", "hint", "required", "required_message", "when", "min_length",
    "max_length", "min", "max", "min_date", "max_date", "pattern", "pattern_message", "choices",
    "widget", "prefill", "fields", "min_items", "max_items", "item_label", "text", "cases",
    "in_departement", "procedure", "width", "wallet_kind", "max_age_days", "autocomplete",
}
STEP_KEYS = {"id", "title", "when", "fields", "rules", "intro"}
PROCEDURE_KEYS = {
    "id", "title", "summary", "category", "audience", "beneficiary", "reference_prefix",
    "info", "steps", "workflow", "kind", "keywords", "submit_notice", "next_steps", "result",
    "settings",
}
RULE_LEVELS = ("error", "warning")
SETTING_RE = re.compile(r"\{([a-z][a-z0-9_]{0,40})\}")
STATUS_KEYS = {"label", "visible", "final", "notify", "message", "data", "appeal_months",
               "decision", "rules"}


class DefinitionError(ValueError):
    """A broken definition. ``str()`` names the file, the step and the field."""

    def __init__(self, path: str, message: str, step: str | None = None, field: str | None = None):
        self.path, self.step, self.field, self.message = path, step, field, message
        where = [path]
        if step:
            where.append(f"étape « {step} »")
        if field:
            where.append(f"champ « {field} »")
        super().__init__(", ".join(where) + " : " + message)


@dataclass
class Field:
    id: str
    type: str
    label: str = ""
    spec: dict[str, Any] = field(default_factory=dict)
    children: list[Field] = field(default_factory=list)

    def get(self, key: str, default: Any = None) -> Any:
        return self.spec.get(key, default)

    @property
    def required(self) -> bool:
        return bool(self.spec.get("required"))

    @property
    def has_value(self) -> bool:
        return self.type in VALUE_TYPES

    @property
    def choices(self) -> list[dict[str, str]]:
        if self.type == "yesno":
            return [{"value": "oui", "label": "Oui"}, {"value": "non", "label": "Non"}]
        return self.spec.get("choices") or []

    def choice_label(self, value: str) -> str:
        for choice in self.choices:
            if choice["value"] == value:
                return choice["label"]
        return value


@dataclass
class Step:
    id: str
    title: str
    fields: list[Field]
    when: dict | None = None
    rules: list[dict] = field(default_factory=list)
    intro: str = ""


@dataclass
class Status:
    id: str
    label: str
    visible: bool = True
    final: bool = False
    notify: bool = True
    message: str = ""
    data: list[Field] = field(default_factory=list)
    appeal_months: int | None = None
    decision: bool = False
    # Rules on the agent's data, which may look at the answers too (GIR 1-2: permanent card).
    rules: list[dict] = field(default_factory=list)


@dataclass
class Workflow:
    initial: str
    statuses: dict[str, Status]
    transitions: dict[str, list[str]]
    deadlines: list[dict]

    def deadline_for(self, status: str) -> dict | None:
        for deadline in self.deadlines:
            if status in deadline["from"]:
                return deadline
        return None


@dataclass
class Procedure:
    id: str
    title: str
    summary: str
    category: str
    steps: list[Step]
    spec: dict[str, Any]
    path: str
    workflow: Workflow | None = None

    @property
    def kind(self) -> str:
        return self.spec.get("kind", "procedure")

    @property
    def info(self) -> dict:
        return self.spec.get("info") or {}

    @property
    def reference_prefix(self) -> str:
        return self.spec.get("reference_prefix") or self.id.upper()[:6]

    def all_fields(self) -> dict[str, Field]:
        return {f.id: f for step in self.steps for f in step.fields}

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def field_step(self, field_id: str) -> Step | None:
        return next((s for s in self.steps if any(f.id == field_id for f in s.fields)), None)

    @property
    def relation_kinds(self) -> list[str]:
        """The kinds of relation the procedure may be made for; empty: only for oneself."""
        beneficiary = self.spec.get("beneficiary", "self")
        return list(beneficiary["relations"]) if isinstance(beneficiary, dict) else []

    @property
    def for_self(self) -> bool:
        """Whether « Pour moi » is offered (``beneficiary: {relations: [association], self: false}``:
        a request made only on behalf of an organisation)."""
        beneficiary = self.spec.get("beneficiary", "self")
        return beneficiary == "self" or bool(beneficiary.get("self", True))

    @property
    def audience(self) -> list[str]:
        return self.spec.get("audience") or ["citizen"]

    def open_to(self, user) -> bool:
        """Citizens and organisations file what their audience allows; staff may try anything."""
        role = getattr(user, "role", "citizen")
        return role in ("agent", "admin") or role in self.audience

    def matches(self, query: str) -> bool:
        from unicodedata import combining, normalize

        def fold(text: str) -> str:
            return "".join(c for c in normalize("NFD", text.casefold()) if not combining(c))

        haystack = fold(" ".join([self.title, self.summary, self.category,
                                  " ".join(self.spec.get("keywords") or [])]))
        return all(word in haystack for word in fold(query).split())


# --- loading and validation ----------------------------------------------------------------


def load_all(folder: Path = PROCEDURES_DIR,
             overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, Procedure]:
    """Every ``*.yaml`` in ``folder``; the first broken one raises DefinitionError.
    ``overrides`` gives a deployment's values for the procedures' ``settings``."""
    procedures: dict[str, Procedure] = {}
    overrides = overrides or {}
    for path in sorted(folder.glob("*.yaml")):
        procedure = load_file(path, overrides)
        if procedure.id in procedures:
            raise DefinitionError(path.name, f"l'identifiant « {procedure.id} » est déjà utilisé "
                                             f"par {procedures[procedure.id].path}")
        procedures[procedure.id] = procedure
    unknown = sorted(set(overrides) - set(procedures))
    if unknown:
        raise DefinitionError("DEMARCHES_SETTINGS", f"démarche inconnue « {unknown[0]} »")
    return procedures


def load_file(path: Path, overrides: dict[str, dict[str, Any]] | None = None) -> Procedure:
    try:
        data = yaml.safe_load(path.read_bytes())  # YAML is UTF-8 (or has a BOM)
    except yaml.YAMLError as exc:
        raise DefinitionError(path.name, f"YAML illisible ({exc})") from exc
    if isinstance(data, dict):
        data = apply_settings(data, (overrides or {}).get(data.get("id"), {}), path.name)
    return parse(data, path.name)


def apply_settings(data: dict, overrides: dict[str, Any], path: str) -> dict:
    """Replace ``{name}`` by the value of ``settings: {name: default}``, or by the deployment's
    override: what a département decides (a fee, a certificate's age) is configuration, not text
    stated as fact. A value that is exactly ``{name}`` takes the setting's type (a number)."""
    defaults = data.get("settings") or {}
    if not isinstance(defaults, dict) or not all(isinstance(k, str) and ID_RE.match(k) for k in defaults):
        raise DefinitionError(path, "« settings » associe des noms (minuscules, chiffres, _) à leur "
                                    "valeur par défaut")
    if not isinstance(overrides, dict):
        raise DefinitionError(path, "les réglages d'une démarche sont un dictionnaire")
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise DefinitionError(path, f"réglage inconnu « {unknown[0]} » (possibles : "
                                    f"{', '.join(sorted(defaults)) or 'aucun'})")
    values = {**defaults, **overrides}
    for name, value in values.items():
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise DefinitionError(path, f"le réglage « {name} » doit être un texte ou un nombre")

    def substitute(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: substitute(v) for k, v in node.items()}
        if isinstance(node, list):
            return [substitute(v) for v in node]
        if isinstance(node, str):
            whole = SETTING_RE.fullmatch(node.strip())
            if whole and whole.group(1) in values:
                return values[whole.group(1)]
            return SETTING_RE.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values
                                  else m.group(0), node)
        return node

    return {**substitute({k: v for k, v in data.items() if k != "settings"}), "settings": values}


def parse(data: Any, path: str) -> Procedure:
    """Build a Procedure from decoded YAML, or raise DefinitionError."""
    if not isinstance(data, dict):
        raise DefinitionError(path, "le fichier doit décrire une démarche (un dictionnaire)")
    _unknown_keys(data, PROCEDURE_KEYS, path)
    for key in ("id", "title", "steps"):
        if not data.get(key):
            raise DefinitionError(path, f"la clé « {key} » est obligatoire")
    if not ID_RE.match(str(data["id"])):
        raise DefinitionError(path, f"identifiant invalide « {data['id']} » (minuscules, chiffres, _)")
    if data.get("kind", "procedure") not in ("procedure", "questionnaire"):
        raise DefinitionError(path, "« kind » vaut « procedure » ou « questionnaire »")
    audience = data.get("audience", ["citizen"])
    if not isinstance(audience, list) or not audience or not set(audience) <= AUDIENCES:
        raise DefinitionError(path, f"« audience » est une liste parmi {', '.join(sorted(AUDIENCES))}")
    _check_beneficiary(data.get("beneficiary", "self"), path)
    if not isinstance(data["steps"], list):
        raise DefinitionError(path, "« steps » doit être une liste d'étapes")
    steps: list[Step] = []
    seen_steps: set[str] = set()
    known_fields: dict[str, Field] = {}
    for index, raw_step in enumerate(data["steps"], start=1):
        step = _parse_step(raw_step, index, path, known_fields)
        if step.id in seen_steps:
            raise DefinitionError(path, "identifiant d'étape en double", step=step.id)
        seen_steps.add(step.id)
        steps.append(step)
    # Conditions and rules may look at any field of the procedure: check once all are known.
    for step in steps:
        _check_condition(step.when, known_fields, path, step.id, None)
        for f in _walk(step.fields):
            _check_condition(f.get("when"), known_fields, path, step.id, f.id)
            for case in f.get("cases") or []:
                _check_condition(case.get("when"), known_fields, path, step.id, f.id)
        for rule in step.rules:
            _check_condition(rule.get("if"), known_fields, path, step.id, rule.get("field"))
    workflow = None
    if data.get("kind", "procedure") == "procedure":
        if not data.get("workflow"):
            raise DefinitionError(path, "la clé « workflow » est obligatoire pour une démarche")
        workflow = _parse_workflow(data["workflow"], path)
        for status in workflow.statuses.values():
            known = {**known_fields, **{f.id: f for f in status.data}}
            for rule in status.rules:
                _check_condition(rule["if"], known, path, f"workflow/{status.id}", rule["field"])
    return Procedure(id=data["id"], title=str(data["title"]), summary=str(data.get("summary", "")),
                     category=str(data.get("category", "")), steps=steps, spec=data, path=path,
                     workflow=workflow)


def _check_beneficiary(value: Any, path: str) -> None:
    """``self``, or ``{relations: [kinds]}``: "Pour moi" or a relation of one of these kinds."""
    if value == "self":
        return
    from portal.relations.models import KINDS as RELATION_KINDS

    if not isinstance(value, dict) or not {"relations"} <= set(value) <= {"relations", "self"} \
            or not isinstance(value["relations"], list) or not value["relations"]:
        raise DefinitionError(path, "« beneficiary » vaut « self » ou « {relations: [enfant, conjoint, …]} »")
    if not isinstance(value.get("self", True), bool):
        raise DefinitionError(path, "« beneficiary » : « self » vaut true (« Pour moi » proposé) ou false "
                                    "(seulement pour une relation, par exemple une association)")
    unknown = [k for k in value["relations"] if k not in RELATION_KINDS]
    if unknown:
        raise DefinitionError(path, f"« beneficiary » : type de relation inconnu « {unknown[0]} » "
                              f"(possibles : {', '.join(RELATION_KINDS)})")


def _walk(fields: list[Field]):
    for f in fields:
        yield f
        yield from _walk(f.children)


def _unknown_keys(data: dict, allowed: set[str], path: str, step: str | None = None,
                  field_id: str | None = None) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise DefinitionError(path, f"clé(s) inconnue(s) : {', '.join(unknown)}", step, field_id)


def _parse_step(raw: Any, index: int, path: str, known: dict[str, Field]) -> Step:
    if not isinstance(raw, dict):
        raise DefinitionError(path, f"l'étape n°{index} doit être un dictionnaire")
    step_id = raw.get("id") or f"n°{index}"
    _unknown_keys(raw, STEP_KEYS, path, step_id)
    if not raw.get("id") or not ID_RE.match(str(raw["id"])):
        raise DefinitionError(path, "identifiant d'étape manquant ou invalide", step_id)
    if not raw.get("title"):
        raise DefinitionError(path, "titre d'étape manquant", step_id)
    if not isinstance(raw.get("fields"), list) or not raw["fields"]:
        raise DefinitionError(path, "une étape contient au moins un champ", step_id)
    fields = [_parse_field(item, path, step_id, known) for item in raw["fields"]]
    rules = raw.get("rules") or []
    for rule in rules:
        if not isinstance(rule, dict) or not rule.get("if") or not rule.get("message"):
            raise DefinitionError(path, "une règle a besoin de « if » et de « message »", step_id)
        if rule.get("field") and rule["field"] not in {f.id for f in fields}:
            raise DefinitionError(path, "la règle vise un champ absent de l'étape", step_id, rule["field"])
        if rule.get("level", "error") not in RULE_LEVELS:
            raise DefinitionError(path, "« level » d'une règle vaut « error » (bloque) ou « warning » "
                                        "(informe sans bloquer)", step_id, rule.get("field"))
    fields = _with_warnings(fields, rules, step_id, known)
    return Step(id=raw["id"], title=str(raw["title"]), fields=fields, when=raw.get("when"),
                rules=rules, intro=str(raw.get("intro", "")))


def _with_warnings(fields: list[Field], rules: list[dict], step_id: str,
                   known: dict[str, Field]) -> list[Field]:
    """A ``level: warning`` rule does not block: it is shown as a notice under its field while
    its condition holds (``avertissement_<field>_<n>``), so the person reads it before going on."""
    result = list(fields)
    for number, rule in enumerate(rules, start=1):
        if rule.get("level", "error") != "warning":
            continue
        target = rule.get("field") or fields[0].id
        notice = Field(id=f"avertissement_{step_id}_{number}", type="info",
                       spec={"text": rule["message"], "when": rule["if"], "level": "warning"})
        known[notice.id] = notice
        index = next(i for i, f in enumerate(result) if f.id == target)
        result.insert(index + 1, notice)
    return result


def _parse_field(raw: Any, path: str, step: str, known: dict[str, Field] | None = None,
                 in_group: bool = False) -> Field:
    """One field; ``known`` collects the procedure's top-level fields (not a group's, nor a status's)."""
    if not isinstance(raw, dict):
        raise DefinitionError(path, "chaque champ doit être un dictionnaire", step)
    fid = raw.get("id")
    if not fid or not ID_RE.match(str(fid)):
        raise DefinitionError(path, f"identifiant de champ manquant ou invalide ({fid!r})", step)
    _unknown_keys(raw, FIELD_KEYS, path, step, fid)
    ftype = raw.get("type")
    if ftype not in FIELD_TYPES:
        raise DefinitionError(path, f"type inconnu « {ftype} » (types possibles : "
                              f"{', '.join(sorted(FIELD_TYPES))})", step, fid)
    if known is not None and fid in known:
        raise DefinitionError(path, "identifiant de champ en double", step, fid)
    if ftype in VALUE_TYPES and not raw.get("label"):
        raise DefinitionError(path, "libellé (« label ») manquant", step, fid)
    if ftype in DISPLAY_TYPES and not (raw.get("text") or raw.get("cases")):
        raise DefinitionError(path, "un bloc d'information a besoin de « text » ou « cases »", step, fid)
    if ftype in ("choice", "checkboxes"):
        choices = raw.get("choices")
        if not isinstance(choices, list) or not choices:
            raise DefinitionError(path, "un choix a besoin d'une liste « choices »", step, fid)
        values = set()
        for choice in choices:
            if not isinstance(choice, dict) or "value" not in choice or "label" not in choice:
                raise DefinitionError(path, "chaque choix a une « value » et un « label »", step, fid)
            choice["value"] = str(choice["value"])
            if choice["value"] in values:
                raise DefinitionError(path, f"valeur de choix en double « {choice['value']} »", step, fid)
            values.add(choice["value"])
        if raw.get("widget", "radios") not in ("radios", "select"):
            raise DefinitionError(path, "« widget » vaut « radios » ou « select »", step, fid)
    elif "choices" in raw:
        raise DefinitionError(path, f"« choices » n'a pas de sens pour le type « {ftype} »", step, fid)
    for low, high in (("min_length", "max_length"), ("min", "max"), ("min_items", "max_items")):
        lo, hi = raw.get(low), raw.get(high)
        for key, value in ((low, lo), (high, hi)):
            if value is not None and not isinstance(value, int | float):
                raise DefinitionError(path, f"« {key} » doit être un nombre", step, fid)
        if lo is not None and hi is not None and lo > hi:
            raise DefinitionError(path, f"« {low} » ({lo}) est supérieur à « {high} » ({hi})", step, fid)
    for key in ("min_date", "max_date"):
        if key in raw:
            if ftype != "date":
                raise DefinitionError(path, f"« {key} » ne s'applique qu'à une date", step, fid)
            if not RELATIVE_DATE.match(str(raw[key]).strip()):
                raise DefinitionError(path, f"« {key} » invalide « {raw[key]} » (exemples : today, "
                                      "today-120y, today+30d)", step, fid)
    if "pattern" in raw:
        try:
            re.compile(str(raw["pattern"]))
        except re.error as exc:
            raise DefinitionError(path, f"expression « pattern » invalide ({exc})", step, fid) from exc
        if not raw.get("pattern_message"):
            raise DefinitionError(path, "« pattern » demande son « pattern_message »", step, fid)
    if "prefill" in raw and raw["prefill"] not in PROFILE_FIELDS:
        raise DefinitionError(path, f"« prefill » inconnu « {raw['prefill']} » (possibles : "
                              f"{', '.join(sorted(PROFILE_FIELDS))})", step, fid)
    if raw.get("prefill") == "civilite" and ftype == "choice":
        from portal.accounts.models import CIVILITES

        if {str(c["value"]) for c in raw["choices"]} != set(CIVILITES):
            raise DefinitionError(path, f"« prefill: civilite » : les valeurs sont celles du compte "
                                  f"({', '.join(CIVILITES)})", step, fid)
    children: list[Field] = []
    if ftype == "group":
        if in_group:
            raise DefinitionError(path, "un groupe répétable ne peut pas contenir de groupe", step, fid)
        if not isinstance(raw.get("fields"), list) or not raw["fields"]:
            raise DefinitionError(path, "un groupe répétable a besoin de « fields »", step, fid)
        children = [_parse_field(item, path, step, in_group=True) for item in raw["fields"]]
        if any(child.type == "file" for child in children):  # a nested group was refused above
            raise DefinitionError(path, "un groupe ne contient ni fichier ni groupe", step, fid)
    elif "fields" in raw:
        raise DefinitionError(path, "« fields » est réservé aux groupes répétables", step, fid)
    if "wallet_kind" in raw or "max_age_days" in raw:
        from portal.wallet.services import KINDS as WALLET_KINDS

        if ftype != "file":
            raise DefinitionError(path, "« wallet_kind » et « max_age_days » ne s'appliquent qu'à un "
                                  "fichier", step, fid)
        if raw.get("wallet_kind") not in WALLET_KINDS:
            raise DefinitionError(path, f"« wallet_kind » inconnu « {raw.get('wallet_kind')} » (possibles : "
                                  f"{', '.join(WALLET_KINDS)})", step, fid)
        age = raw.get("max_age_days")
        if age is not None and (not isinstance(age, int) or isinstance(age, bool) or age < 1):
            raise DefinitionError(path, "« max_age_days » est un nombre de jours positif", step, fid)
    if ftype == "linked_request" and not raw.get("procedure"):
        raise DefinitionError(path, "« procedure » indique la démarche liée", step, fid)
    spec = {k: v for k, v in raw.items() if k not in ("id", "type", "label", "fields")}
    result = Field(id=fid, type=ftype, label=str(raw.get("label", "")), spec=spec, children=children)
    if known is not None:
        known[fid] = result
    return result


def _check_condition(cond: Any, known: dict[str, Field], path: str, step: str | None,
                     field_id: str | None) -> None:
    if cond is None:
        return
    if not isinstance(cond, dict) or not cond:
        raise DefinitionError(path, f"condition invalide : {cond!r}", step, field_id)
    logical = set(cond) & LOGICAL
    if logical:
        if len(cond) != 1:
            raise DefinitionError(path, "« all », « any » et « not » s'utilisent seuls", step, field_id)
        op = next(iter(logical))
        items = cond[op] if op != "not" else [cond[op]]
        if not isinstance(items, list) or not items:
            raise DefinitionError(path, f"« {op} » attend une liste de conditions", step, field_id)
        for item in items:
            _check_condition(item, known, path, step, field_id)
        return
    target = cond.get("field")
    if not target:
        raise DefinitionError(path, f"condition sans « field » : {cond!r}", step, field_id)
    ops = set(cond) - {"field"}
    if len(ops) != 1 or not ops <= COMPARISONS:
        raise DefinitionError(path, f"condition sur « {target} » : un seul opérateur parmi "
                              f"{', '.join(sorted(COMPARISONS))}", step, field_id)
    if not str(target).startswith("$") and target not in known:
        raise DefinitionError(path, f"la condition vise un champ inconnu « {target} »", step, field_id)
    op = next(iter(ops))
    if op == "one_of" and not isinstance(cond[op], list):
        raise DefinitionError(path, "« one_of » attend une liste", step, field_id)
    referenced = known.get(target)
    if referenced and op in ("equals", "not_equals", "contains") and referenced.choices:
        values = {c["value"] for c in referenced.choices}
        if str(cond[op]) not in values:
            raise DefinitionError(path, f"« {cond[op]} » n'est pas une valeur de « {target} »",
                                  step, field_id)


def _parse_workflow(raw: Any, path: str) -> Workflow:
    where = "workflow"
    if not isinstance(raw, dict) or not isinstance(raw.get("statuses"), dict):
        raise DefinitionError(path, "le workflow a besoin de « statuses »", where)
    statuses: dict[str, Status] = {}
    for sid, spec in raw["statuses"].items():
        spec = spec or {}
        _unknown_keys(spec, STATUS_KEYS, path, where, sid)
        if not spec.get("label"):
            raise DefinitionError(path, "statut sans « label »", where, sid)
        data_fields = [_parse_field(item, path, f"workflow/{sid}", in_group=True)
                       for item in spec.get("data") or []]
        rules = spec.get("rules") or []
        for rule in rules:
            if not isinstance(rule, dict) or not rule.get("if") or not rule.get("message"):
                raise DefinitionError(path, "une règle a besoin de « if » et de « message »", f"workflow/{sid}")
            if rule.get("field") not in {f.id for f in data_fields}:
                raise DefinitionError(path, "la règle d'un statut vise une de ses données (« field »)",
                                      f"workflow/{sid}", rule.get("field"))
        statuses[sid] = Status(id=sid, label=str(spec["label"]), visible=spec.get("visible", True),
                               final=bool(spec.get("final")), notify=spec.get("notify", True),
                               message=str(spec.get("message", "")), data=data_fields,
                               appeal_months=spec.get("appeal_months"),
                               decision=bool(spec.get("decision")), rules=rules)
    initial = raw.get("initial")
    if initial not in statuses:
        raise DefinitionError(path, f"statut initial inconnu « {initial} »", where)
    transitions: dict[str, list[str]] = {}
    for item in raw.get("transitions") or []:
        sources = item.get("from") if isinstance(item.get("from"), list) else [item.get("from")]
        for name in [*sources, item.get("to")]:
            if name not in statuses:
                raise DefinitionError(path, f"transition vers ou depuis un statut inconnu « {name} »", where)
        for source in sources:
            transitions.setdefault(source, []).append(item["to"])
    deadlines = []
    for item in raw.get("deadlines") or []:
        sources = item.get("from") if isinstance(item.get("from"), list) else [item.get("from")]
        if any(s not in statuses for s in sources) or item.get("to") not in statuses:
            raise DefinitionError(path, f"échéance avec un statut inconnu : {item!r}", where)
        if not isinstance(item.get("months", item.get("days")), int):
            raise DefinitionError(path, "une échéance a « months » ou « days » (entier)", where)
        deadlines.append({**item, "from": sources})
    return Workflow(initial=initial, statuses=statuses, transitions=transitions, deadlines=deadlines)
