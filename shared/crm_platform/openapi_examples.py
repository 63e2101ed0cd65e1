"""An example for every JSON body of an OpenAPI document (crm_platform.openapi): SDK generators and API browsers
show it, and a client author sees a valid request before reading every field's rules.

Built from the schemas themselves, so an example cannot drift from them: a field's own `example` (marshmallow
`metadata={"example": ...}`) first, then a value for the field names the services share, then one from the type,
format, enum and bounds. Every value is fictitious (a reserved domain, a drama phone number).
"""
from __future__ import annotations

EXAMPLE_ID = "7d3f0c2a-5b1e-4c8d-9a6f-2e4b8c1d0f35"
EXAMPLE_TIME = "2026-03-02T09:30:00Z"
EXAMPLE_DATE = "2026-03-02"
EXAMPLE_URL = "https://crm.example.com/hooks/events"
# A webhook secret as the gateway makes one (docs/webhooks.md): whsec_ and the base64 of 32 bytes, here readable ones
EXAMPLE_WEBHOOK_SECRET = "whsec_ZXhhbXBsZS13ZWJob29rLXNlY3JldC0zMi1ieXRlcyE="
# Field names several services use, with a value that satisfies each of their schemas.
BY_FIELD_NAME = {
    "first_name": "Camille", "last_name": "Martin", "company": "Exemple SARL", "job_title": "Buyer",
    "email": "camille@example.com", "address": "camille@example.com", "info_email": "contact@example.com",
    "notification_email": "billing@example.com", "to": "camille@example.com",
    "phone": "+44 20 7946 0123", "e164": "+442079460123",  # Ofcom's range for drama
    "city": "Lyon", "postal_code": "69001", "region": "Auvergne-Rhône-Alpes", "country": "FR",
    "default_phone_region": "FR", "currency": "EUR", "default_currency": "EUR", "lang": "en",
    "time_zone": "Europe/Paris", "key": "customer-tier", "name": "Key accounts", "title": "Call back about the quote",
    "amount": "120.00", "amount_due": "120.00", "amount_paid": "0.00", "amount_credited": "0.00", "total": "120.00",
    "delimiter": ",", "encoding": "utf-8", "secret": EXAMPLE_WEBHOOK_SECRET,
    "vat_number": "FR40303265045", "invoice_number": "F-2026-0001",
}
_NO_VALUE = object()  # a schema met again inside itself: the field is left out of the example


def state_examples(document: dict) -> None:
    """Give every JSON request body and 2xx JSON answer of `document` that has none an `example`."""
    components = document.get("components", {}).get("schemas", {})
    for media in json_bodies(document):
        if "example" not in media and "examples" not in media and "example" not in media["schema"]:
            value = example_of(media["schema"], components)
            if value is not _NO_VALUE:
                media["example"] = value


def json_bodies(document: dict) -> list[dict]:
    """The media type objects of the JSON request bodies and 2xx JSON answers of `document`."""
    found = []
    for operations in document.get("paths", {}).values():
        for op in operations.values():
            if not isinstance(op, dict):
                continue
            found += [media for media_type, media in op.get("requestBody", {}).get("content", {}).items()
                      if media_type == "application/json" and "schema" in media]
            found += [media for status, response in op.get("responses", {}).items() if status.startswith("2")
                      for media_type, media in response.get("content", {}).items()
                      if media_type == "application/json" and "schema" in media]
    return found


def example_of(schema: dict, components: dict, name: str = "", seen: frozenset = frozenset()):
    """A value for `schema` (`name`: the field it describes, if any); tests/test_openapi_for_sdk_generators.py
    checks that every example of the merged document is one its schema accepts."""
    if "example" in schema:
        return schema["example"]
    if "$ref" in schema:
        component = schema["$ref"].rsplit("/", 1)[-1]
        if component in seen or component not in components:
            return _NO_VALUE
        return example_of(components[component], components, name, seen | {component})
    if schema.get("allOf"):
        parts = [example_of(branch, components, name, seen) for branch in schema["allOf"]]
        if all(isinstance(part, dict) for part in parts):
            return {key: value for part in parts for key, value in part.items()}
        return parts[0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return example_of(schema[key][0], components, name, seen)
    if "enum" in schema:
        return BY_FIELD_NAME[name] if BY_FIELD_NAME.get(name) in schema["enum"] else schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return _object_example(schema, components, seen)
    if kind == "array":
        item = example_of(schema.get("items", {}), components, name.removesuffix("s"), seen)  # `keys`: a key
        return [] if item is _NO_VALUE else [item]
    if kind == "string":
        return _string_example(schema, name)
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", 1), schema.get("maximum")
        value = max(low, 1) if high is None else min(max(low, 1), high)
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    return _NO_VALUE  # a schema without a type takes any value: none is more telling than another


def _object_example(schema: dict, components: dict, seen: frozenset) -> dict:
    value = {}
    for field, prop in schema.get("properties", {}).items():
        example = example_of(prop, components, field, seen)
        if example is not _NO_VALUE:
            value[field] = example
    extra = schema.get("additionalProperties")
    if not value and isinstance(extra, dict) and extra.get("type"):
        example = example_of(extra, components, "", seen)  # a map: one entry shows the shape of its values
        if example is not _NO_VALUE:
            value["key"] = example
    return value


def _string_example(schema: dict, name: str) -> str:
    formats = {"date-time": EXAMPLE_TIME, "date": EXAMPLE_DATE, "email": "camille@example.com", "uri": EXAMPLE_URL,
               "url": EXAMPLE_URL, "uuid": EXAMPLE_ID}
    if schema.get("format") in formats:
        value = formats[schema["format"]]
    elif name in BY_FIELD_NAME:
        value = BY_FIELD_NAME[name]
    elif name == "id" or name.endswith("_id"):
        value = EXAMPLE_ID
    elif name.endswith("_at"):
        value = EXAMPLE_TIME
    elif name.endswith("_on"):
        value = EXAMPLE_DATE
    elif name.endswith("_url"):
        value = "https://crm.example.com/v1/files/" + EXAMPLE_ID
    else:
        value = (name.replace("_", " ").capitalize() or "Text") + " text"
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    value = value.ljust(low, "x")
    return value if high is None else value[:high]
