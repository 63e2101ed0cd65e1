"""What an OpenAPI document built from marshmallow schemas states about its schemas as a whole (crm_platform.openapi):
the input guard's rule on free text, typed timestamps, and none of what OpenAPI 3.0 ignores or generators misread."""
from __future__ import annotations

from crm_platform.input_guard import STORABLE_TEXT_PATTERN


def state_schema_rules(document: dict) -> None:
    """Apply every rule below to `document` (a service's, as apispec gives it)."""
    _drop_fields_that_are_not_parameters(document)
    request_side = _request_schemas(document)
    for schema in request_side:
        _state_storable_text(schema)
    _give_object_sizes_in_properties(document)
    _state_nullable_references(document)
    _state_nullable_enums(document)
    _drop_nullable_without_type(document)
    _drop_null_from_query_parameters(document)
    _state_timestamps([s for s in _response_schemas(document) if all(s is not r for r in request_side)])


def _drop_fields_that_are_not_parameters(document: dict) -> None:
    """Query-schema fields marked `x-not-a-parameter` (filled by a pre_load hook from other parameters,
    such as `cf.<key>.<op>` conditions) are described in the operation, not as a parameter of their own."""
    for operations in document.get("paths", {}).values():
        for op in operations.values():
            if isinstance(op, dict) and "parameters" in op:
                op["parameters"] = [p for p in op["parameters"] if not p.get("schema", {}).get("x-not-a-parameter")]


def _request_schemas(document: dict) -> list:
    """The schemas of what clients send: parameters, request bodies, and the components they refer to
    (responses may show text the service did not take from a request, such as an uploaded file's header)."""
    found: list = []
    for operations in document.get("paths", {}).values():
        for op in operations.values():
            if isinstance(op, dict):
                found += [p["schema"] for p in op.get("parameters", []) if "schema" in p]
                found += [c["schema"] for c in op.get("requestBody", {}).get("content", {}).values() if "schema" in c]
    components = document.get("components", {}).get("schemas", {})
    names: set[str] = set()
    pending = list(found)
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            name = ref.rsplit("/", 1)[-1] if ref.startswith("#/components/schemas/") else None
            if name and name not in names and name in components:
                names.add(name)
                pending.append(components[name])
            pending += list(node.values())
        elif isinstance(node, list):
            pending += node
    return found + [components[name] for name in sorted(names)]


def _response_schemas(document: dict) -> list:
    """The schemas of what the service answers: its response bodies and every component."""
    found = [media["schema"] for operations in document.get("paths", {}).values()
             for op in operations.values() if isinstance(op, dict)
             for response in op.get("responses", {}).values()
             for media in response.get("content", {}).values() if "schema" in media]
    return found + list(document.get("components", {}).get("schemas", {}).values())


def _state_timestamps(schemas: list) -> None:
    """A `*_at` string of an answer is an RFC 3339 date-time (the house convention): say so, for typed clients.
    (Not in what clients send: there the service's own parsing, which may take more, is the rule.)"""
    for node in _schema_nodes(schemas):
        for name, prop in node.get("properties", {}).items():
            if name.endswith("_at") and prop.get("type") == "string" and not {"format", "enum"} & prop.keys():
                prop["format"] = "date-time"


def _give_object_sizes_in_properties(document: dict) -> None:
    """marshmallow's Length on a Dict comes out as minLength/maxLength, which mean nothing on an object."""
    for node in _schema_nodes([document]):
        if node.get("type") == "object":
            for length, properties in (("minLength", "minProperties"), ("maxLength", "maxProperties")):
                if length in node:
                    node[properties] = node.pop(length)


NULL_OBJECT = {"type": "object", "nullable": True}  # apispec's first branch of a nested schema that may be null


def _state_nullable_references(document: dict) -> None:
    """A nested schema that may be null is `{allOf: [its $ref], nullable: true}`: apispec's `anyOf` of a nullable
    object and the $ref made generators read every value as the untyped object (Import.job was never a Job)."""
    for node in _schema_nodes([document]):
        branches = node.get("anyOf", [])
        if len(branches) == 2 and NULL_OBJECT in branches and any("$ref" in b for b in branches):
            node.pop("anyOf")
            node.update({"allOf": [b for b in branches if "$ref" in b], "nullable": True})


def _state_nullable_enums(document: dict) -> None:
    """A nullable enum is `{nullable: true, anyOf: [the enum without null]}`: with null among the values (as
    apispec writes it, and OpenAPI 3.0.3 asks) openapi-python-client made three classes of one enum."""
    for node in _schema_nodes([document]):
        if node.get("nullable") is True and None in node.get("enum", ()):
            kept = {key: node.pop(key) for key in ("description", "default", "nullable") if key in node}
            branch = {**node, "enum": [value for value in node["enum"] if value is not None]}
            node.clear()
            node.update({**kept, "anyOf": [branch]})


def _drop_nullable_without_type(document: dict) -> None:
    """`nullable` only qualifies a `type` (OpenAPI 3.0.3), or a one-item `allOf` or `anyOf` (the usual way to say
    that a reference or an enum may be null); any other schema without a type takes any value, null included."""
    for node in _schema_nodes([document]):
        if node.get("nullable") is True and "type" not in node and not _one_branch(node):
            del node["nullable"]


def _one_branch(node: dict) -> bool:
    return len(node.get("allOf", ())) == 1 or len(node.get("anyOf", ())) == 1


def _drop_null_from_query_parameters(document: dict) -> None:
    """A query string cannot carry null: a parameter's `nullable`, null default and null enum value only made
    generators build three classes of one enum. (A body's nullable enum keeps its null, as OpenAPI 3.0.3 asks.)"""
    for operations in document.get("paths", {}).values():
        for op in operations.values():
            for parameter in op.get("parameters", []) if isinstance(op, dict) else ():
                schema = parameter.get("schema", {})
                if parameter.get("in") != "query" or not schema.pop("nullable", False):
                    continue
                if "default" in schema and schema["default"] is None:
                    del schema["default"]
                if "enum" in schema:
                    schema["enum"] = [value for value in schema["enum"] if value is not None]


def _schema_nodes(roots: list):
    """Every dict under `roots`, depth first (schemas and what holds them)."""
    pending = list(roots)
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            yield node
            pending += [v for v in node.values() if isinstance(v, (dict, list))]
        elif isinstance(node, list):
            pending += node


def _state_storable_text(node: object) -> None:
    """Give every free-text string of the document the input guard's rule (crm_platform.input_guard):
    strings with no pattern, format or enum of their own. (The keys of free-form objects follow it too, but
    OpenAPI 3.0 has no `propertyNames` to say so: a document with it fails validation.)"""
    if isinstance(node, list):
        for item in node:
            _state_storable_text(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "string" and not {"pattern", "format", "enum"} & node.keys():
        node["pattern"] = STORABLE_TEXT_PATTERN
    for value in node.values():
        _state_storable_text(value)
