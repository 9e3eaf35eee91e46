"""Helpers shared by the custom checks: turn a checkov attribute value into a policy document."""

from __future__ import annotations

import json
import re
from typing import Any


def first(value: Any) -> Any:
    """checkov wraps HCL attribute values in one-element lists; unwrap them."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def as_document(value: Any) -> dict[str, Any] | None:
    """Return a JSON document from a checkov attribute value, or None if it cannot be read.

    checkov evaluates ``jsonencode({...})`` into a dict when it can; when a reference stays
    unresolved it may leave a JSON string or an HCL expression string.
    """
    value = first(value)
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("${") and text.endswith("}"):
            text = text[2:-1].strip()
        match = re.fullmatch(r"jsonencode\((.*)\)", text, flags=re.DOTALL)
        if match:
            text = match.group(1)
        try:
            loaded = json.loads(text)
        except ValueError:
            return None
        return loaded if isinstance(loaded, dict) else None
    return None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text_of(value: Any) -> str:
    """The attribute as text, for expressions checkov could not evaluate."""
    return str(first(value))


def statement_matches(text: str, *patterns: str) -> bool:
    """True if one policy statement in an unevaluated ``jsonencode({...})`` text matches all
    patterns in order, starting at its Effect and before the next statement's Effect."""
    joined = r"(?:(?!Effect).)*?".join(patterns)
    return re.search(joined, text, flags=re.DOTALL | re.IGNORECASE) is not None
