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
compounded): the line's net is then in the base of each of its (category, rate).

Prices entered with tax included: the amounts entered are kept and nets are derived from them.
  1. line gross = quantity x unit price - line discount, rounded to the minor unit;
  2. a document discount is taken off the gross of each tax group, as above (an amount is then a
     tax-included amount);
  3. per tax group, gross G with rates r1..rn: the base B is the amount of the minor unit nearest
     G / (1 + sum(r)) such that B + sum(round(B x ri)) = G (one of the three nearest candidates
     does so unless no base gives G exactly, then the tax of the highest rate takes the cent:
     within the EN 16931 BR-CO-17 tolerance); the taxes are round(B x ri);
  4. line nets are the lines' share of B (gross / (1 + sum(r)), rounded by largest remainder so
     that they add up to B); the discount allowance of a group is its base before the document
     discount less its base after. So total = sum of line grosses - gross discount, to the cent.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Iterable, Literal

from billing.domain.money import minor_unit, money_text, parse_currency, parse_decimal
from crm_platform.errors import InvalidInput

ROUNDING_EN16931 = "en16931-half-up"
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
            return (amount * self.value / HUNDRED).quantize(unit, rounding=ROUND_HALF_UP)
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
        line_nets, bases, group_taxes, allowances = _from_gross(amounts, groups, group_amounts, allowances, unit)
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


def _from_gross(amounts: list[Decimal], groups: dict[TaxGroup, list[int]], group_grosses: dict[TaxGroup, Decimal],
                gross_discounts: dict[TaxGroup, Decimal], unit: Decimal) -> tuple:
    """Line nets, bases, taxes and allowances of each group when the amounts entered include tax."""
    line_nets = list(amounts)
    bases, group_taxes, allowances = {}, {}, {}
    for taxes, members in groups.items():
        rates = tuple(tax.rate for tax in taxes)
        net, _ = _split_gross(group_grosses[taxes], rates, unit)
        bases[taxes], group_taxes[taxes] = _split_gross(group_grosses[taxes] - gross_discounts[taxes], rates, unit)
        allowances[taxes] = net - bases[taxes]
        divisor = 1 + sum(rates) / HUNDRED
        for i, share in zip(members, _apportion(net, [amounts[i] / divisor for i in members], unit)):
            line_nets[i] = share
    return line_nets, bases, group_taxes, allowances


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
    shares = _apportion(discount.value, [discount.value * amount / whole for amount in group_amounts.values()], unit)
    return dict(zip(group_amounts, shares))


def _split_gross(gross: Decimal, rates: tuple[Decimal, ...], unit: Decimal) -> tuple[Decimal, tuple[Decimal, ...]]:
    """The base and the taxes of a tax-included amount, adding up to it exactly."""
    def taxes_on(base: Decimal) -> tuple[Decimal, ...]:
        return tuple((base * rate / HUNDRED).quantize(unit, rounding=ROUND_HALF_UP) for rate in rates)

    nearest = (gross / (1 + sum(rates) / HUNDRED)).quantize(unit, rounding=ROUND_HALF_UP)
    for base in (nearest, nearest - unit, nearest + unit):
        if base + sum(taxes_on(base)) == gross:
            return base, taxes_on(base)
    taxes = list(taxes_on(nearest))
    highest = max(range(len(rates)), key=lambda position: rates[position])
    taxes[highest] += gross - nearest - sum(taxes)
    return nearest, tuple(taxes)


def _apportion(total: Decimal, exact_parts: list[Decimal], unit: Decimal) -> list[Decimal]:
    """Parts rounded to the minor unit that add up to `total`: largest remainders take the spare units."""
    floors = [part.quantize(unit, rounding=ROUND_FLOOR) for part in exact_parts]
    spare = int((total - sum(floors, Decimal(0))) / unit)
    order = sorted(range(len(floors)), key=lambda i: exact_parts[i] - floors[i], reverse=spare >= 0)
    step = unit if spare >= 0 else -unit
    for turn in range(abs(spare)):
        floors[order[turn % len(order)]] += step
    return floors
