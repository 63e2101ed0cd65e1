"""What /v1/api-keys takes and returns (marshmallow: validated at the edge, and described in the OpenAPI document)."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from crm_platform.http_schemas import StrictSchema

from gateway.domain.api_keys import SCOPES
from gateway.domain.key_records import DEFAULT_ROTATION_GRACE, MAX_NAME_LENGTH, MAX_ROTATION_GRACE, name_problem

# No control character at all in a name (tab and line feed included): it is shown in lists and logs of operators.
NAME_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]+$"


def _valid_name(name: str) -> None:
    problem = name_problem(name)
    if problem is not None:
        raise ValidationError(problem)


class KeyCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=_valid_name,
                         metadata={"description": "what the key is for (shown in lists)", "minLength": 1,
                                   "maxLength": MAX_NAME_LENGTH, "pattern": NAME_PATTERN, "example": "nightly sync"})
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), required=True,
                         validate=validate.Length(min=1, max=len(SCOPES)),
                         metadata={"description": "what the key may do; at most the scopes of the key that creates "
                                                  "it", "example": ["read"]})
    expires_at = fields.AwareDateTime(load_default=None, format="iso",
                                      metadata={"description": "when the key stops working (a future date-time with "
                                                               "its UTC offset); none: it does not expire",
                                                "example": "2099-12-31T23:59:59Z"})


class KeyRotateSchema(StrictSchema):
    grace_period_seconds = fields.Integer(
        strict=True, load_default=int(DEFAULT_ROTATION_GRACE.total_seconds()),
        validate=validate.Range(min=0, max=int(MAX_ROTATION_GRACE.total_seconds())),
        metadata={"description": "how long the key's current secret keeps working after the rotation (default 24 h, "
                                 "at most 7 days; 0: refused at once)"})


class KeySchema(Schema):
    id = fields.String(metadata={"description": "the 12 characters after `crm_` in the key"})
    name = fields.String()
    prefix = fields.String(metadata={"description": "`crm_<id>`: how the key starts (never its secret)"})
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)))
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    last_used_at = fields.AwareDateTime(allow_none=True, metadata={"description": "to the minute"})
    revoked_at = fields.AwareDateTime(allow_none=True)
    previous_secret_expires_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "after a rotation: until when the previous secret works"})


class IssuedKeySchema(KeySchema):
    secret = fields.String(metadata={"description": "the whole API key, `crm_<id>_<secret>`: shown this once, "
                                                    "never again (only its hash is kept)"})


class KeyListSchema(Schema):
    items = fields.List(fields.Nested(KeySchema))
