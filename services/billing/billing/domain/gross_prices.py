"""Totals of prices entered with tax included (totals.py calls these): the gross entered is kept.

The nets are derived from the amounts entered:
  1. line gross = quantity x unit price - line discount, rounded to the minor unit;
  2. a document discount is taken off the gross of each tax group, as for net prices (an amount is then a
     tax-included amount);
  3. per tax group, gross G with rates r1..rn: the base B is the amount of the minor unit nearest
     G / (1 + sum(r)) such that B + sum(round(B x ri)) = G (one of the three nearest candidates
     does so unless no base gives G exactly, then the tax of the highest rate takes the cent:
     within the EN 16931 BR-CO-17 tolerance); the taxes are round(B x ri);
  4. line nets are the lines' share of B (gross / (1 + sum(r)), rounded by largest remainder so
     that they add up to B); the discount allowance of a group is its base before the document
     discount less its base after. So total = sum of line grosses - gross discount, to the cent.
Each tax group is a tuple of totals.TaxRate (the sorted taxes its lines share).
"""
from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)


def from_gross(amounts: list[Decimal], groups: dict[tuple, list[int]], group_grosses: dict[tuple, Decimal],
               gross_discounts: dict[tuple, Decimal], unit: Decimal) -> tuple:
    """Line nets, bases, taxes and allowances of each group when the amounts entered include tax."""
    line_nets = list(amounts)
    bases, group_taxes, allowances = {}, {}, {}
    for taxes, members in groups.items():
        rates = tuple(tax.rate for tax in taxes)
        net, _ = split_gross(group_grosses[taxes], rates, unit)
        bases[taxes], group_taxes[taxes] = split_gross(group_grosses[taxes] - gross_discounts[taxes], rates, unit)
        allowances[taxes] = net - bases[taxes]
        divisor = 1 + sum(rates) / HUNDRED
        for i, share in zip(members, apportion(net, [amounts[i] / divisor for i in members], unit)):
            line_nets[i] = share
    return line_nets, bases, group_taxes, allowances


def split_gross(gross: Decimal, rates: tuple[Decimal, ...], unit: Decimal) -> tuple[Decimal, tuple[Decimal, ...]]:
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


def apportion(total: Decimal, exact_parts: list[Decimal], unit: Decimal) -> list[Decimal]:
    """Parts rounded to the minor unit that add up to `total`: largest remainders take the spare units."""
    floors = [part.quantize(unit, rounding=ROUND_FLOOR) for part in exact_parts]
    spare = int((total - sum(floors, Decimal(0))) / unit)
    order = sorted(range(len(floors)), key=lambda i: exact_parts[i] - floors[i], reverse=spare >= 0)
    step = unit if spare >= 0 else -unit
    for turn in range(abs(spare)):
        floors[order[turn % len(order)]] += step
    return floors
