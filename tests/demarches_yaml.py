"""Small procedure definitions written as YAML text in the tests (not the shipped CMI)."""

from __future__ import annotations

import textwrap

import yaml

from portal.demarches.definitions import Field, Procedure, parse


def procedure_from_yaml(text: str, path: str = "essai.yaml") -> Procedure:
    """A definition from YAML text, loaded as the portal loads a file."""
    return parse(yaml.safe_load(textwrap.dedent(text)), path)


def questionnaire(fields_yaml: str, rules_yaml: str = "") -> Procedure:
    """One step ``s`` holding ``fields_yaml`` (a YAML list), and its ``rules``."""
    indented = textwrap.indent(textwrap.dedent(fields_yaml).strip(), " " * 6)
    rules = textwrap.indent(textwrap.dedent(rules_yaml).strip(), " " * 6) if rules_yaml else ""
    return procedure_from_yaml(
        "id: essai\ntitle: Essai\nkind: questionnaire\nsteps:\n  - id: s\n    title: S\n"
        f"    fields:\n{indented}\n" + (f"    rules:\n{rules}\n" if rules else ""))


def one_field(field_yaml: str) -> Field:
    """The single field a YAML mapping describes, as a procedure author writes it."""
    text = textwrap.dedent(field_yaml).strip()
    return questionnaire("- " + textwrap.indent(text, "  ")[2:]).steps[0].fields[0]
