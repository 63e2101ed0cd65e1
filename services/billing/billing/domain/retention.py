"""The legal retention of accounting documents, when the person they are for asks for erasure (issue 13).

Issued invoices and credit notes are accounting documents: French law (Code de commerce L123-22) keeps
them 10 years, which GDPR Art. 17(3)(b) lets outweigh the right to erasure. What erasure cannot delete
is kept with processing restricted (Art. 18): it is read (the accountant's need), never changed, paid,
credited or sent again; and when its retention ends, its document key is shredded (service_layer/retention.py).

A document's key seals the invoice and its credit notes together (invoice_events.py), so one date covers
them all: 31 December of the tenth year after the LATEST of their issue years.

L123-22 counts the 10 years from the close of the financial year. Billing knows no financial year other than the
calendar year: its settings hold none, and documents are numbered per calendar year of issue (`fiscal_year` =
the issue date's year, invoices.py and credit_notes.py). So the close is 31 December. For an account whose
financial year closes on another day (say 30 June), a document issued after that day (September 2026: its year
closes 30 June 2027) would be kept to 31 December 2036, half a year short of 30 June 2037: when billing learns of
financial years (a setting), `retain_until` must take the close of the financial year of the latest issue.

While restricted, a document is served (API, export) with only what the accounting record needs: the buyer's
name, company, VAT number and billing address, the lines, amounts, dates and numbers; the buyer's emails, the
document's notes and its payments' references are no longer served (`accounting_buyer`; the representations of
entrypoints/representation.py and service_layer/privacy_export.py). They are NOT gone: the sealed events cannot
be rewritten, and keep them, unreadable to any API, until the document key is shredded at the end of retention.
"""
from __future__ import annotations

from datetime import date

RETENTION_YEARS = 10
LEGAL_BASIS = "GDPR Art. 17(3)(b) and 18; Code de commerce L123-22: accounting documents kept 10 years"


# What a restricted document still shows of its buyer: what the accounting record needs (who was invoiced, where,
# under which VAT number); emails and any other contact detail are no longer served.
ACCOUNTING_BUYER_FIELDS = ("name", "company", "vat_number", "address")


def accounting_buyer(buyer: dict) -> dict:
    """A restricted document's buyer snapshot as it is still served: the ACCOUNTING_BUYER_FIELDS only."""
    return {name: value for name, value in buyer.items() if name in ACCOUNTING_BUYER_FIELDS}


def retain_until(*issue_years: int) -> str:
    """The last day (ISO) documents issued in these years are kept: 31 December of the latest year + 10."""
    return date(max(issue_years) + RETENTION_YEARS, 12, 31).isoformat()


def retention_ended(retained_until: str, today: date) -> bool:
    """Whether a document kept until `retained_until` (inclusive) may now be erased."""
    return today > date.fromisoformat(retained_until)
