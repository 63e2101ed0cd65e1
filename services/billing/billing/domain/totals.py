"""Invoice totals by the EN 16931 rounding rules, Decimal throughout.

Prices entered without tax (the default):
  1. line net = quantity x unit price - line discount, rounded half up to the currency's minor
     unit (BT-131); the net total is the sum of these rounded line nets (BT-106);
  2. a document discount becomes one allowance per tax group (the lines sharing one set of
     taxes; with one VAT per line, as in EN 16931, one allowance per VAT category and rate:
     BG-20 with BT-95/BT-96). A percentage is applied to each group's net and rounded (BT-92 =
     BT-93 x BT-94); an amount is spread over the groups in proportion to their nets, rounded by
     largest remainder so that the parts add up to the amount exactly;
  3. per (category, rate): base = the group nets less their allowances (BT-116), tax = base x
     rate, rounded half up once on the summed base (BT-117), never per line;
  4. total = net total - discount total + tax total (BT-112).
A line may carry several taxes (e.g. a VAT and a second levy, each on the line net, not
compounded): the line's net is then in the base of each of its (category, rate). Documents
(document_lines.py) give a line ONE VAT: two VAT rows for one line would count its net twice in
the taxable total.

Prices entered with tax included: the amounts entered are kept, and nets are derived from them
(gross_prices.py says how); Totals.rounding_method says which way a document was computed.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Literal

from billing.domain.gross_prices import apportion, from_gross
from billing.domain.money import minor_unit, money_text, parse_currency, parse_decimal
from crm_platform.errors import InvalidInput

# Totals.rounding_method: how the totals were rounded.
ROUNDING_EN16931 = "en16931-half-up"  # VAT = round(summed base x rate), exactly, per (category, rate)
# Tax-inclusive prices: the gross entered is kept to the cent, so a VAT row may differ by one minor
# unit from round(base x rate), within the tolerance EN 16931's BR-CO-17 allows.
ROUNDING_EN16931_GROSS_KEPT = "en16931-half-up-gross-kept"
HUNDRED = Decimal(100)
# Largest line amount (quantity x unit price). With 6 places each, such a product has at most 27
# digits: exact in Decimal's default 28-digit context, and its rounding to the minor unit cannot
# fail (an 18-digit quantity times an 18-digit price could: quantize raises InvalidOperation).
MAX_LINE_AMOUNT = Decimal(10) ** 15
# EN 16931 VAT category codes (UNTDID 5305 subset): S standard, Z zero rated, E exempt, AE reverse
# charge, K intra-community supply, G export outside the EU, O outside the scope of VAT, L Canary
# Islands IGIC, M Ceuta and Melilla IPSI. Only S, L and M carry a rate other than 0.
VAT_CATEGORIES = ("S", "Z", "E", "AE", "K", "G", "O", "L", "M")
_RATED_CATEGORIES = ("S", "L", "M")


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors={field: [message]})


@dataclass(frozen=True, order=True)
class TaxRate:
    """A tax applied to a line: EN 16931 VAT category and rate in percent (Decimal("5.5"))."""

    category: str
    rate: Decimal

    def __post_init__(self) -> None:
        if self.category not in VAT_CATEGORIES:
            raise _refuse("category", f"must be one of {', '.join(VAT_CATEGORIES)}")
        if not isinstance(self.rate, Decimal) or not self.rate.is_finite() or not 0 <= self.rate < HUNDRED:
            raise _refuse("rate", "must be a percentage from 0 to less than 100")
        if self.category == "S" and self.rate == 0:
            raise _refuse("rate", "a standard rated (S) tax needs a rate above 0")
        if self.category not in _RATED_CATEGORIES and self.rate != 0:
            raise _refuse("rate", f"category {self.category} has a rate of 0")


@dataclass(frozen=True)
class Discount:
    """A discount: kind "percent" (value 0-100) or "amount" (in the document's currency, >= 0)."""

    kind: Literal["percent", "amount"]
    value: Decimal

    def __post_init__(self) -> None:
        if self.kind not in ("percent", "amount"):
            raise _refuse("discount.kind", "must be percent or amount")
        if not isinstance(self.value, Decimal) or not self.value.is_finite() or self.value < 0:
            raise _refuse("discount.value", "must be a decimal number of at least 0")
        if self.kind == "percent" and self.value > HUNDRED:
            raise _refuse("discount.value", "a percentage is at most 100")

    def check_places(self, unit: Decimal, field: str) -> None:
        """An amount discount is a number of minor units: 10.005 EUR is refused, not rounded."""
        if self.kind == "amount" and self.value != self.value.quantize(unit):
            raise _refuse(field, f"has more decimals than the currency's minor unit ({unit})")

    def off(self, amount: Decimal, unit: Decimal, field: str) -> Decimal:
        """How much of `amount` this discount takes, rounded to the minor unit; never more than it."""
        if self.kind == "percent":
            off = (amount * self.value / HUNDRED).quantize(unit, rounding=ROUND_HALF_UP)
            # rounded up, 100 % of 2.875 would be 2.88: more than the amount, a net of -0.01 once rounded
            return amount if abs(off) > abs(amount) else off
        self.check_places(unit, field)
        if self.value > abs(amount):
            raise _refuse(field, f"the discount {money_text(self.value)} is more than the amount {money_text(amount)}")
        return self.value.copy_sign(amount) if amount else Decimal(0)


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    taxes: tuple[TaxRate, ...]
    discount: Discount | None = None


TaxGroup = tuple[TaxRate, ...]  # the sorted taxes of a line: lines with the same ones share a discount allowance


@dataclass(frozen=True)
class TaxSubtotal:
    """One row of the tax breakdown (BG-23): taxable base and tax amount of a (category, rate)."""

    category: str
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Totals:
    line_nets: tuple[Decimal, ...]
    net_total: Decimal          # sum of the rounded line nets (BT-106)
    discount_total: Decimal     # document discount, without tax (BT-107)
    tax_breakdown: tuple[TaxSubtotal, ...]
    tax_total: Decimal          # BT-110
    total: Decimal              # with tax (BT-112)
    # ROUNDING_EN16931, or ROUNDING_EN16931_GROSS_KEPT for tax-inclusive prices: a VAT row may then
    # differ by one minor unit from round(base x rate), within BR-CO-17's tolerance
    rounding_method: str

    @property
    def taxable_total(self) -> Decimal:
        """Net total less the document discount (BT-109)."""
        return self.net_total - self.discount_total

    def to_dict(self) -> dict:
        """Plain JSON-ready data, every amount and rate as a string."""
        return {
            "line_nets": [money_text(net) for net in self.line_nets],
            "net_total": money_text(self.net_total),
            "discount_total": money_text(self.discount_total),
            "tax_breakdown": [{"category": row.category, "rate": money_text(row.rate), "base": money_text(row.base),
                               "amount": money_text(row.amount)} for row in self.tax_breakdown],
            "tax_total": money_text(self.tax_total),
            "total": money_text(self.total),
            "rounding_method": self.rounding_method,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Totals:
        """The totals stored by `to_dict`."""
        def amount(value: object, field: str) -> Decimal:
            return parse_decimal(value, field, max_places=4)

        return cls(
            line_nets=tuple(amount(net, f"line_nets.{index}") for index, net in enumerate(data["line_nets"])),
            net_total=amount(data["net_total"], "net_total"),
            discount_total=amount(data["discount_total"], "discount_total"),
            tax_breakdown=tuple(TaxSubtotal(row["category"], parse_decimal(row["rate"], "rate"),
                                            amount(row["base"], "base"), amount(row["amount"], "amount"))
                                for row in data["tax_breakdown"]),
            tax_total=amount(data["tax_total"], "tax_total"),
            total=amount(data["total"], "total"),
            rounding_method=str(data["rounding_method"]),
        )


def line_amounts(lines: Iterable[Line], currency: str) -> tuple[Decimal, ...]:
    """Each line's quantity x unit price less its line discount, rounded to the minor unit (step 1)."""
    unit = minor_unit(parse_currency(currency))
    return tuple(_line_amount(line, index, unit) for index, line in enumerate(lines))


def compute_totals(lines: Iterable[Line], currency: str, *, prices_include_tax: bool = False,
                   discount: Discount | None = None) -> Totals:
    """The document's totals, EN 16931 style (see the module docstring for the arithmetic)."""
    unit = minor_unit(parse_currency(currency))
    lines = tuple(lines)
    amounts = [_line_amount(line, index, unit) for index, line in enumerate(lines)]
    groups: dict[TaxGroup, list[int]] = {}
    for index, line in enumerate(lines):
        groups.setdefault(_tax_group(line, index), []).append(index)
    group_amounts = {taxes: sum((amounts[i] for i in members), Decimal(0)) for taxes, members in groups.items()}
    allowances = _document_discounts(discount, group_amounts, unit)
    if prices_include_tax:
        line_nets, bases, group_taxes, allowances = from_gross(amounts, groups, group_amounts, allowances, unit)
    else:
        line_nets, group_taxes = amounts, None
        bases = {taxes: group_amounts[taxes] - allowances[taxes] for taxes in groups}
    breakdown = _breakdown(bases, group_taxes, unit)
    net_total = sum(line_nets, Decimal(0))
    discount_total = sum(allowances.values(), Decimal(0)).quantize(unit)
    tax_total = sum((row.amount for row in breakdown), Decimal(0)).quantize(unit)
    return Totals(
        line_nets=tuple(line_nets), net_total=net_total.quantize(unit), discount_total=discount_total,
        tax_breakdown=breakdown, tax_total=tax_total, total=(net_total - discount_total + tax_total).quantize(unit),
        rounding_method=ROUNDING_EN16931_GROSS_KEPT if prices_include_tax else ROUNDING_EN16931)


def _breakdown(bases: dict[TaxGroup, Decimal], group_taxes: dict[TaxGroup, tuple[Decimal, ...]] | None,
               unit: Decimal) -> tuple[TaxSubtotal, ...]:
    """One subtotal per (category, rate): the summed base, and its tax rounded once on that base.

    With prices including tax the tax is what `_split_gross` gave each group, so that the gross is kept.
    """
    by_rate: dict[TaxRate, list[Decimal]] = {}
    for taxes, base in bases.items():
        for position, tax in enumerate(taxes):
            base_and_tax = by_rate.setdefault(tax, [Decimal(0), Decimal(0)])
            base_and_tax[0] += base
            if group_taxes is not None:
                base_and_tax[1] += group_taxes[taxes][position]
    return tuple(
        TaxSubtotal(tax.category, tax.rate, base, amount if group_taxes is not None
                    else (base * tax.rate / HUNDRED).quantize(unit, rounding=ROUND_HALF_UP))
        for tax, (base, amount) in sorted(by_rate.items()))


def _line_amount(line: Line, index: int, unit: Decimal) -> Decimal:
    """Quantity x unit price less the line discount, rounded to the minor unit (net, or gross)."""
    for name in ("quantity", "unit_price"):
        value = getattr(line, name)
        if not isinstance(value, Decimal) or not value.is_finite():
            raise _refuse(f"lines.{index}.{name}", "must be a decimal number")
    amount = line.quantity * line.unit_price
    if abs(amount) > MAX_LINE_AMOUNT:
        raise _refuse(f"lines.{index}", f"quantity x unit price is more than {MAX_LINE_AMOUNT:,}")
    if line.discount is not None:
        amount -= line.discount.off(amount, unit, f"lines.{index}.discount.value")
    return amount.quantize(unit, rounding=ROUND_HALF_UP)


def _tax_group(line: Line, index: int) -> TaxGroup:
    if not line.taxes:
        raise _refuse(f"lines.{index}.taxes", "a line needs a tax category (O when outside the scope of VAT)")
    taxes = tuple(sorted(line.taxes))
    if len(set(taxes)) != len(taxes):
        raise _refuse(f"lines.{index}.taxes", "the same tax (category and rate) is given twice")
    return taxes


def _document_discounts(discount: Discount | None, group_amounts: dict[TaxGroup, Decimal],
                        unit: Decimal) -> dict[TaxGroup, Decimal]:
    """The document discount's allowance for each tax group (percent per group; amount by proportion)."""
    if discount is None:
        return {taxes: Decimal(0) for taxes in group_amounts}
    if discount.kind == "percent":
        return {taxes: discount.off(amount, unit, "discount.value") for taxes, amount in group_amounts.items()}
    discount.check_places(unit, "discount.value")
    whole = sum(group_amounts.values(), Decimal(0))
    if discount.value > whole or (discount.value and whole <= 0):
        raise _refuse("discount.value",
                      f"the discount {money_text(discount.value)} is more than the amount {money_text(whole)}")
    if not discount.value:
        return {taxes: Decimal(0) for taxes in group_amounts}
    shares = apportion(discount.value, [discount.value * amount / whole for amount in group_amounts.values()], unit)
    return dict(zip(group_amounts, shares))
