"""The account's billing settings: who the seller is, and the defaults every new document starts from.

One small aggregate per account (`billing-settings:<account>`). An account that never set them
uses DEFAULTS (euros, Paris time, French legal mentions). The seller is a business: its legal
identity is no personal data of a data subject, but it is kept out of logs all the same.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.errors import InvalidInput, StaleRevision

from billing.domain import seller_identity
from billing.domain.document_mail import MAX_MESSAGE, MAX_SUBJECT, check_template
from billing.domain.account_defaults import AccountDefaults
from billing.domain.settings_values import check_currency, check_numbering, check_payment_term, check_time_zone, check_text

VAT_EXEMPTION_TEXT = "TVA non applicable, art. 293 B du CGI"
# Mentions French law requires on invoices between businesses (Code de commerce, art. L441-10 and D441-5).
FRENCH_LEGAL_TERMS = (
    "En cas de retard de paiement, une pénalité égale à trois fois le taux d'intérêt légal sera exigible "
    "(art. L441-10 du Code de commerce), ainsi qu'une indemnité forfaitaire pour frais de recouvrement "
    "de 40 € (art. D441-5 du Code de commerce). Pas d'escompte pour paiement anticipé."
)
DEFAULTS: dict = {
    "seller": {},
    "default_currency": "EUR",
    "time_zone": "Europe/Paris",
    "numbering": {"invoices": "F-{YYYY}-{SEQ:4}", "credit_notes": "AV-{YYYY}-{SEQ:4}", "quotes": "D-{YYYY}-{SEQ:4}"},
    "payment_term": {"kind": "net", "days": 30},
    "notes": "",
    "legal_terms": FRENCH_LEGAL_TERMS,
    # VAT franchise (art. 293 B du CGI): documents carry no VAT and say why
    "vat_exempt": False,
    "vat_exemption_text": VAT_EXEMPTION_TEXT,
    # The mail a document is sent with (domain/document_mail.py): "" is the language's default text
    "email_subject_template": "",
    "email_message_template": "",
}
SETTING_NAMES = tuple(DEFAULTS)


def settings_id(account_id: str) -> str:
    return f"billing-settings:{account_id}"


@dataclass(frozen=True)
class BillingSettingsChanged(DomainEvent):
    """The account's whole billing settings after the change; `changed` names the top-level keys that did."""

    account_id: str
    settings: dict
    changed: list = field(default_factory=list)


class BillingSettings(Aggregate):
    aggregate_type = "BillingSettings"
    event_classes = (BillingSettingsChanged,)
    latest_event_is_state = True  # each event holds the whole settings

    def __init__(self, account_id: str) -> None:
        super().__init__(settings_id(account_id), account_id)
        self.settings: dict = copy.deepcopy(DEFAULTS)

    @classmethod
    def blank(cls, aggregate_id: str, account_id: str) -> "BillingSettings":
        return cls(account_id)

    def legal_mentions(self) -> str:
        """The legal terms a new document carries, with the VAT exemption text when the seller is exempt."""
        terms = [self.settings["legal_terms"]]
        if self.settings["vat_exempt"]:
            terms.insert(0, self.settings["vat_exemption_text"])
        return "\n".join(t for t in terms if t)

    def account_defaults(self) -> AccountDefaults:
        """What a new document of the account starts from."""
        settings = self.settings
        return AccountDefaults(
            currency=settings["default_currency"], time_zone=settings["time_zone"],
            payment_term=dict(settings["payment_term"]), notes=settings["notes"], legal_terms=self.legal_mentions(),
            invoice_pattern=settings["numbering"]["invoices"], credit_note_pattern=settings["numbering"]["credit_notes"],
            quote_pattern=settings["numbering"]["quotes"], seller=copy.deepcopy(settings["seller"]))

    def change(self, revision: int, changes: dict) -> None:
        """Apply a partial change based on `revision`: `seller` and `numbering` merge key by key (null clears a
        seller field), other keys replace. InvalidInput names every bad field; StaleRevision if not current."""
        if revision != self.revision:
            raise StaleRevision(f"billing settings are at revision {self.revision}, the change was based on {revision}",
                                current_revision=self.revision)
        updated = merged(self.settings, changes)
        changed = [name for name in SETTING_NAMES if updated[name] != self.settings[name]]
        if changed:
            self._record(BillingSettingsChanged(self.account_id, updated, changed))

    def _apply(self, event: BillingSettingsChanged) -> None:
        self.settings = {**copy.deepcopy(DEFAULTS), **copy.deepcopy(event.settings)}


def merged(current: dict, changes: dict) -> dict:
    """The settings after `changes`, every value checked and normalised; InvalidInput naming each bad field."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(changes) - set(SETTING_NAMES))
    for name in unknown:
        errors[name] = ["unknown setting"]
    result = copy.deepcopy(current)
    checks = {
        "default_currency": check_currency,
        "time_zone": check_time_zone,
        "payment_term": check_payment_term,
        "notes": lambda value, name: check_text(value, name, 4000),
        "legal_terms": lambda value, name: check_text(value, name, 4000),
        "vat_exemption_text": lambda value, name: check_text(value, name, 500),
        "email_subject_template": lambda value, name: check_template(value, name, MAX_SUBJECT),
        "email_message_template": lambda value, name: check_template(value, name, MAX_MESSAGE),
    }
    for name, value in changes.items():
        if name in unknown:
            continue
        try:
            if name == "seller":
                result["seller"] = seller_identity.merged(current["seller"], value)
            elif name == "numbering":
                result["numbering"] = check_numbering({**current["numbering"], **_mapping(value, name)}, name)
            elif name == "vat_exempt":
                if not isinstance(value, bool):
                    raise InvalidInput("not a boolean", errors={name: ["true or false"]})
                result[name] = value
            else:
                result[name] = checks[name](value, name)
        except InvalidInput as exc:
            errors.update(exc.errors or {name: [exc.detail]})
    if errors:
        raise InvalidInput("some billing settings are not valid", errors=errors)
    return result


def _mapping(value, name: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput("not an object", errors={name: ["an object"]})
    return value


@dataclass(frozen=True)
class ChangeBillingSettings:
    """Change some of the account's billing settings, based on the revision the caller read."""

    account_id: str
    revision: int
    changes: dict
