"""The words printed on billing documents, in each language they are printed in (fr, en).

Numbers, amounts and dates are localised by babel (adapters/document_rendering.py); only the labels
are here. The texts a user wrote (lines, notes, legal terms) are printed as written; the default legal mentions
an account starts with (domain/settings.py, in French) are printed in the document's language.
"""
from __future__ import annotations

from billing.domain.settings import FRENCH_LEGAL_TERMS, VAT_EXEMPTION_TEXT

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LOCALES = {"fr": "fr_FR", "en": "en_GB"}

LABELS = {
    "fr": {
        "invoice": "Facture", "credit_note": "Avoir", "quote": "Devis", "draft": "Brouillon", "void": "Annulée",
        "number": "N°", "issued_on": "Date d'émission", "sent_on": "Date", "due_on": "Échéance",
        "valid_until": "Valable jusqu'au", "corrects": "Avoir sur la facture", "reason": "Motif",
        "seller": "Vendeur", "buyer": "Client", "siren": "SIREN", "siret": "SIRET", "vat_number": "N° TVA",
        "iban": "IBAN", "bic": "BIC", "description": "Désignation", "quantity": "Qté", "unit_price": "P.U.",
        "vat": "TVA", "net": "Montant", "prices_ht": "Prix hors taxes", "prices_ttc": "Prix toutes taxes comprises",
        "vat_breakdown": "Détail de la TVA", "rate": "Taux", "base": "Base", "tax": "TVA",
        "net_total": "Total HT", "discount": "Remise", "taxable_total": "Total HT net", "tax_total": "Total TVA",
        "total": "Total TTC", "payment_term": "Conditions de paiement", "notes": "Notes",
        "legal_terms": "Mentions légales", "period": "Période",
    },
    "en": {
        "invoice": "Invoice", "credit_note": "Credit note", "quote": "Quote", "draft": "Draft", "void": "Void",
        "number": "No.", "issued_on": "Issue date", "sent_on": "Date", "due_on": "Due date",
        "valid_until": "Valid until", "corrects": "Credit note for invoice", "reason": "Reason",
        "seller": "Seller", "buyer": "Customer", "siren": "SIREN", "siret": "SIRET", "vat_number": "VAT number",
        "iban": "IBAN", "bic": "BIC", "description": "Description", "quantity": "Qty", "unit_price": "Unit price",
        "vat": "VAT", "net": "Amount", "prices_ht": "Prices excluding tax", "prices_ttc": "Prices including tax",
        "vat_breakdown": "VAT breakdown", "rate": "Rate", "base": "Taxable amount", "tax": "VAT",
        "net_total": "Total excl. VAT", "discount": "Discount", "taxable_total": "Net total excl. VAT",
        "tax_total": "Total VAT", "total": "Total incl. VAT", "payment_term": "Payment terms", "notes": "Notes",
        "legal_terms": "Legal notices", "period": "Invoicing period",
    },
}

_PAYMENT_TERMS = {
    "fr": {"on_receipt": "Paiement à réception", "net": "Paiement à {days} jours",
           "end_of_month": "Paiement à {days} jours fin de mois", "fixed_date": "Paiement au {on}"},
    "en": {"on_receipt": "Payment on receipt", "net": "Payment within {days} days",
           "end_of_month": "Payment {days} days end of month", "fixed_date": "Payment by {on}"},
}


def payment_term_text(term: dict | None, lang: str, format_date) -> str:
    """A payment term (PaymentTerm.to_dict()) in words; `format_date` prints its fixed date."""
    if not term or term.get("kind") not in _PAYMENT_TERMS[lang]:
        return ""
    on = format_date(term["on"]) if term.get("on") else ""
    return _PAYMENT_TERMS[lang][term["kind"]].format(days=term.get("days", 0), on=on)


_PERIODS = {"fr": "du {start} au {end}", "en": "from {start} to {end}"}


def period_text(period: dict | None, lang: str, format_date) -> str:
    """An invoicing period ({start, end} ISO dates) in words, its dates printed by `format_date`; "" for none."""
    if not period:
        return ""
    return _PERIODS[lang].format(start=format_date(period["start"]), end=format_date(period["end"]))


# The default legal mentions in each language but French (what domain/settings.py writes on a new document, one per
# line): matched line by line, so that what an account wrote instead of them, or next to them, stays as written.
_DEFAULT_LEGAL_TEXTS = {
    FRENCH_LEGAL_TERMS: {
        "en": "In the event of late payment, a penalty equal to three times the French legal interest rate is due "
              "(art. L441-10 of the French Commercial Code), as well as a fixed indemnity of €40 for recovery costs "
              "(art. D441-5 of the French Commercial Code). No discount for early payment."},
    VAT_EXEMPTION_TEXT: {"en": "VAT not applicable, art. 293 B of the French General Tax Code (CGI)"},
}


def legal_terms_text(terms: str, lang: str) -> str:
    """A document's legal terms in `lang`: each line that is a default mention in its language, the others as
    written."""
    return "\n".join(_DEFAULT_LEGAL_TEXTS.get(line.strip(), {}).get(lang, line) for line in terms.split("\n"))
