"""The content of a billing document as a client gives it and as events hold it: lines, discount, texts.

A client's values are checked here, each error naming its field path ("lines.2.unit_price"); what
is kept is plain data with every number a string, so that events hold no Decimal and no float.
`to_lines` and `to_discount` turn that data back into the value objects of totals.py.
"""
from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Iterator

from crm_platform.errors import InvalidInput
from crm_platform.input_guard import text_problem

from billing.domain.errors import InvalidInvoice
from billing.domain.invoicing_periods import checked_period
from billing.domain.money import money_text, parse_currency, parse_decimal
from billing.domain.payment_terms import PaymentTerm
from billing.domain.totals import VAT_CATEGORIES, Discount, Line, TaxRate, compute_totals

# A full credit note of the largest draft carries every line, its description sealed (4 bytes a
# character at worst, 5.3 once sealed): 200 x 500 characters keep it near 600 KiB, under the 768 KiB
# of one event (crm_platform.event_store.MAX_EVENT_BYTES) with room for the buyer and the seller.
MAX_LINES = 200
MAX_DESCRIPTION = 500
MAX_UNIT = 20
MAX_TEXT = 5_000  # notes, legal terms
MAX_TAXES_PER_LINE = 4  # one VAT at most: room for other levies, should a category of them come
DRAFT_FIELDS = ("contact_id", "currency", "lines", "prices_include_tax", "payment_term", "notes", "legal_terms",
                "discount", "period")


def checked_draft(fields: dict) -> dict:
    """A draft's fields as a client gives them, checked, as InvoiceDrafted holds them."""
    contact_id = fields.get("contact_id")
    if not isinstance(contact_id, str) or not contact_id.strip() or len(contact_id) > 200:
        raise InvalidInvoice("contact_id", "the id of a contact of this account")
    currency = parse_currency(fields.get("currency"))
    lines = checked_lines(fields.get("lines"))
    discount = checked_discount(fields.get("discount"))
    prices_include_tax = fields.get("prices_include_tax", False)
    if not isinstance(prices_include_tax, bool):
        raise InvalidInvoice("prices_include_tax", "true or false")
    term = PaymentTerm.parse(fields.get("payment_term"), "payment_term").to_dict()
    checked = {"contact_id": contact_id.strip(), "currency": currency, "lines": lines,
               "prices_include_tax": prices_include_tax, "payment_term": term,
               "notes": checked_text(fields.get("notes"), "notes"),
               "legal_terms": checked_text(fields.get("legal_terms"), "legal_terms"),
               "discount": discount, "period": checked_period(fields.get("period"))}
    # the totals of a draft must be computable (a discount larger than the lines is refused now, not at issue)
    compute_totals(to_lines(lines), currency, prices_include_tax=prices_include_tax,
                   discount=to_discount(discount))
    return checked


def checked_text(value: object, field: str, *, max_length: int = MAX_TEXT, required: bool = False) -> str:
    """A client's text, trimmed; InvalidInvoice naming the field if it is not text, too long or unstorable."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInvoice(field, "must be text")
    if (problem := text_problem(value)) is not None:
        raise InvalidInvoice(field, problem)
    value = value.strip()
    if required and not value:
        raise InvalidInvoice(field, "must not be blank")
    if len(value) > max_length:
        raise InvalidInvoice(field, f"at most {max_length} characters")
    return value


def checked_lines(lines: object, field: str = "lines") -> list[dict]:
    """A client's lines as stored: description, quantity, unit, unit_price, taxes, and discount if any."""
    if lines is None:
        return []
    if not isinstance(lines, (list, tuple)):
        raise InvalidInvoice(field, "must be a list of lines")
    if len(lines) > MAX_LINES:
        raise InvalidInvoice(field, f"at most {MAX_LINES} lines")
    return [_checked_line(line, f"{field}.{index}") for index, line in enumerate(lines)]


def _checked_line(line: object, path: str) -> dict:
    if not isinstance(line, dict):
        raise InvalidInvoice(path, "must be an object")
    unknown = sorted(set(line) - {"description", "quantity", "unit", "unit_price", "taxes", "discount"})
    if unknown:
        raise InvalidInvoice(f"{path}.{unknown[0]}", "unknown field")
    # 12 + 12 digits: a line's quantity x unit price stays within Decimal's 28 digits, exact, never rounded
    quantity = parse_decimal(line.get("quantity", "1"), f"{path}.quantity", max_digits=12, max_places=4)
    if quantity <= 0:
        raise InvalidInvoice(f"{path}.quantity", "must be more than 0 (corrections are credit notes)")
    kept = {
        "description": checked_text(line.get("description"), f"{path}.description", max_length=MAX_DESCRIPTION,
                                    required=True),
        "quantity": money_text(quantity),
        "unit": checked_text(line.get("unit"), f"{path}.unit", max_length=MAX_UNIT),
        "unit_price": money_text(parse_decimal(line.get("unit_price"), f"{path}.unit_price", max_digits=12,
                                               max_places=6, minimum=0)),
        "taxes": _checked_taxes(line.get("taxes"), f"{path}.taxes"),
    }
    discount = checked_discount(line.get("discount"), f"{path}.discount")
    if discount is not None:
        kept["discount"] = discount
    return kept


def _checked_taxes(taxes: object, path: str) -> list[dict]:
    if not isinstance(taxes, (list, tuple)) or not taxes:
        raise InvalidInvoice(path, "a list of at least one tax (category O when outside the scope of VAT)")
    if len(taxes) > MAX_TAXES_PER_LINE:
        raise InvalidInvoice(path, f"at most {MAX_TAXES_PER_LINE} taxes")
    kept = []
    for index, tax in enumerate(taxes):
        where = f"{path}.{index}"
        if not isinstance(tax, dict) or set(tax) - {"category", "rate"}:
            raise InvalidInvoice(where, "an object with a category and a rate")
        rate = parse_decimal(tax.get("rate", "0"), f"{where}.rate", max_digits=7, max_places=4, minimum=0)
        with _fields_under(where):
            TaxRate(tax.get("category"), rate)  # checks the category and its rate
        kept.append({"category": tax["category"], "rate": money_text(rate)})
    if len({(tax["category"], tax["rate"]) for tax in kept}) != len(kept):
        raise InvalidInvoice(path, "the same tax (category and rate) is given twice")
    if sum(tax["category"] in VAT_CATEGORIES for tax in kept) > 1:
        # two VAT rows for one line would count its net twice in the taxable total (EN 16931 BT-151/BT-152)
        raise InvalidInvoice(path, "one VAT (category and rate) per line; split the line to apply another")
    return kept


def checked_discount(discount: object, path: str = "discount") -> dict | None:
    """A client's discount as stored ({"kind": "percent"|"amount", "value": "10"}), or None for none."""
    if discount is None:
        return None
    if not isinstance(discount, dict) or set(discount) - {"kind", "value"}:
        raise InvalidInvoice(path, 'an object {"kind": "percent" or "amount", "value": "10"}')
    value = parse_decimal(discount.get("value"), f"{path}.value", max_digits=15, max_places=6, minimum=0)
    with _fields_under(path.rpartition(".")[0]):
        Discount(discount.get("kind"), value)
    return {"kind": discount["kind"], "value": money_text(value)}


def without_descriptions(lines: list[dict]) -> tuple[list[dict], list[str]]:
    """The lines without their descriptions, and the descriptions (staff's free text, sealed in events)."""
    return ([{name: value for name, value in line.items() if name != "description"} for line in lines],
            [line["description"] for line in lines])


def with_descriptions(lines: list[dict], descriptions: list[str]) -> list[dict]:
    """The lines as `without_descriptions` split them, whole again."""
    return [{"description": description, **line} for line, description in zip(lines, descriptions)]


def to_lines(lines: list[dict] | tuple[dict, ...]) -> tuple[Line, ...]:
    """The stored lines as totals.py's Line values."""
    return tuple(Line(line["description"], Decimal(line["quantity"]), line["unit"], Decimal(line["unit_price"]),
                      tuple(TaxRate(tax["category"], Decimal(tax["rate"])) for tax in line["taxes"]),
                      to_discount(line.get("discount")))
                 for line in lines)


def to_discount(discount: dict | None) -> Discount | None:
    return None if discount is None else Discount(discount["kind"], Decimal(discount["value"]))


@contextlib.contextmanager
def _fields_under(prefix: str) -> Iterator[None]:
    """Re-raises a value object's InvalidInput with its field names under `prefix` ("lines.0.taxes.1")."""
    try:
        yield
    except InvalidInput as exc:
        if not prefix:
            raise
        errors = {f"{prefix}.{field}": messages for field, messages in exc.errors.items()}
        raise InvalidInput(f"{prefix}.{exc.detail}", errors=errors) from None
