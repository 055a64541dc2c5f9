"""The national chain standard (Edustandaard Doorstroomtoetsketen v1.1) as the code uses it.

The standard's OpenAPI document is kept in this package, byte for byte the published one (a test
compares it with `../shared/standards/` when that is beside the checkout). Messages are validated
against its own schemas, not against a look-alike: `errors_in("Leerlingresultaat", body)`.

One deliberate leniency, for a field the service does not use: the standard's own example sends
`Score.waarde` as a number (100) while its schema says string; a provider that follows the example
must not lose the pupil's toetsadvies over it, so a score's value may be a string or a number.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

DOCUMENT = Path(__file__).with_name("doorstroomtoetsketen-openapi-v1.1.0.yaml")
VERSION = "Doorstroomtoetsketen_v1.1"


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: `2025-07-02T11:44:00Z` stays the string JSON sends."""


_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(DOCUMENT.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    return loaded


@cache
def components() -> dict[str, Any]:
    """The standard's components as the service applies them (the one leniency above)."""
    found: dict[str, Any] = copy.deepcopy(document()["components"])
    found["schemas"]["Score"]["properties"]["waarde"]["type"] = ["string", "number"]
    return found


@cache
def _validator(name: str) -> Any:
    schema = {"$ref": f"#/components/schemas/{name}", "components": components()}
    return jsonschema_rs.Draft4Validator(schema, validate_formats=True)


def errors_in(name: str, message: object) -> list[dict[str, str]]:
    """What is wrong with `message` as the standard's schema `name`: field path and reason."""
    return [
        {
            "field": ".".join(str(p) for p in error.instance_path) or "body",
            "code": "schema",
            "message": error.message,
        }
        for error in _validator(name).iter_errors(message)
    ]


def example(path: str, name: str) -> dict[str, Any]:
    """A request example of the standard, as published."""
    operation = document()["paths"][path]["post"]
    value: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["examples"][
        name
    ]["value"]
    return copy.deepcopy(value)
