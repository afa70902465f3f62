"""The DCI Social Registry OpenAPI document (v1.0.0) and validators built from it.

The document is the one of the SPDCI standard with the typo fixes listed in
shared/reference/dci/SPEC_NOTES.md, kept in this app (`social_api_v1.0.0.yaml`). Requests are
validated against it before anything else; the tests validate every response against it too.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

SPEC_PATH = Path(__file__).with_name("social_api_v1.0.0.yaml")


@functools.cache
def document() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    _workarounds(doc)
    return doc


def _workarounds(doc: dict[str, Any]) -> None:
    """One fix applied on loading, like upstream's for issues #45/#46: an attribute value
    (`SubscriptionInfo.filter.anyOf[1].value.allOf[1]`, used by idtype-value and by every
    predicate) is `oneOf` string/integer/number/boolean/object, so an integer (both integer and
    number) never validates and the list an `in` operator takes is refused. Here it is `anyOf`
    of those types and an array."""
    value = doc["components"]["schemas"]["SubscriptionInfo"]["properties"]["filter"]["anyOf"][1]
    types = value["properties"]["value"]["allOf"][1]
    types["anyOf"] = [*types.pop("oneOf"), {"type": "array"}]


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@functools.cache
def validator(pointer: str) -> Any:
    """A JSON Schema validator of the part of the document at `pointer` (refs resolved in it)."""
    root = dict(document())
    root["$ref"] = pointer
    return jsonschema_rs.Draft7Validator(root, validate_formats=True)


def request_pointer(path: str) -> str:
    return _pointer("paths", path, "post", "requestBody", "content", "application/json",
                    "schema")


def response_pointer(path: str, status: str = "default") -> str:
    """The schema of the answer: `default` is the sync envelope (sync paths) or the
    acknowledgement (async paths); 401/403/500 are the HTTP error body."""
    responses = document()["paths"][path]["post"]["responses"]
    answer = responses[status]
    if "$ref" in answer:
        name = answer["$ref"].rsplit("/", 1)[-1]
        return _pointer("components", "responses", name, "content", "application/json",
                        "schema")
    return _pointer("paths", path, "post", "responses", status, "content", "application/json",
                    "schema")


def schema_pointer(name: str) -> str:
    return _pointer("components", "schemas", name)


def errors(pointer: str, instance: Any, limit: int = 5) -> list[str]:
    """What is wrong with `instance` (empty when it conforms)."""
    out = []
    for e in validator(pointer).iter_errors(instance):
        where = "/".join(str(p) for p in e.instance_path) or "(body)"
        out.append(f"{where}: {e.message[:200]}")
        if len(out) >= limit:
            break
    return out
