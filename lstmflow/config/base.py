"""Shared base of every config section: unknown keys refused, assignments validated, and each
field's bounds written into its JSON-schema description (the Prefect UI form shows descriptions
but not `minimum`/`maximum`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

_BOUNDS = (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<"))


class ConfigError(ValueError):
    """A config that cannot be used; the message names the offending key."""


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def bounds_text(schema: dict[str, Any]) -> str:
    """'1 to 1000', '> 0, < 1' for a number schema (items: 'each ...'; a nullable one: its non-null part)."""
    for member in schema.get("anyOf", ()):
        if member.get("type") != "null" and (text := bounds_text(member)):
            return text
    if "minimum" in schema and "maximum" in schema:  # both inclusive: '1 to 1000'
        parts = [f"{_fmt(schema['minimum'])} to {_fmt(schema['maximum'])}"]
    else:
        parts = [f"{sign} {_fmt(schema[k])}" for k, sign in _BOUNDS if k in schema]
    if "items" in schema and (each := bounds_text(schema["items"])):
        parts.append(f"each {each}")
    if "minItems" in schema or "maxItems" in schema:
        parts.append(f"{schema.get('minItems', 0)} to {schema.get('maxItems', 'any number of')} items")
    return ", ".join(parts)


def describe_bounds(schema: dict[str, Any]) -> None:
    """json_schema_extra of every section: append 'Allowed: ...' to each bounded field."""
    for prop in schema.get("properties", {}).values():
        text = bounds_text(prop)
        if text and "Allowed:" not in prop.get("description", ""):
            prop["description"] = f"{prop.get('description', '').rstrip()} Allowed: {text}.".lstrip()


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True,
                              json_schema_extra=describe_bounds)
