from dataclasses import replace
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.domain.money import minor_unit
from billing.domain.totals import (ROUNDING_EN16931, ROUNDING_EN16931_GROSS_KEPT, Discount, Line, TaxRate, Totals,
                                   compute_totals)
from crm_platform.errors import InvalidInput

D = Decimal
S20, S10, S55, S21 = TaxRate("S", D("20")), TaxRate("S", D("10")), TaxRate("S", D("5.5")), TaxRate("S", D("2.1"))
Z, E, AE = TaxRate("Z", D("0")), TaxRate("E", D("0")), TaxRate("AE", D("0"))
S5, S7 = TaxRate("S", D("5")), TaxRate("S", D("7"))


def line(quantity, price, *taxes, discount=None):
    return Line("item", D(quantity), "piece", D(price), taxes, discount)


def rows(totals):
    return {(row.category, str(row.rate)): (str(row.base), str(row.amount)) for row in totals.tax_breakdown}


FRENCH_INVOICE = [
    Line("Création du site", D("3"), "day", D("450.00"), (S20,), Discount("percent", D("10"))),
    Line("Livres", D("7"), "piece", D("12.99"), (S55,)),
    Line("Hébergement", D("1"), "year", D("119.90"), (S20,), Discount("amount", D("19.90"))),
]


def test_french_invoice_with_20_and_5_5_percent_lines_a_line_discount_and_a_5_percent_document_discount():
    # Line nets: 3 x 450.00 = 1350.00 less 10 % (135.00) = 1215.00; 7 x 12.99 = 90.93;
    #            119.90 less 19.90 = 100.00.                             net total 1405.93
    # Document discount 5 %, one allowance per VAT rate (EN 16931 BG-20):
    #   20 %:  base 1215.00 + 100.00 = 1315.00, 5 % = 65.75   -> taxable 1249.25, VAT 249.850 = 249.85
    #   5.5 %: base 90.93,  5 % = 4.5465 -> 4.55              -> taxable   86.38, VAT   4.7509 =   4.75
    # Discount 65.75 + 4.55 = 70.30; VAT 249.85 + 4.75 = 254.60; total 1405.93 - 70.30 + 254.60 = 1590.23
    totals = compute_totals(FRENCH_INVOICE, "EUR", discount=Discount("percent", D("5")))

    assert totals.line_nets == (D("1215.00"), D("90.93"), D("100.00"))
    assert totals.net_total == D("1405.93")
    assert totals.discount_total == D("70.30")
    assert totals.taxable_total == D("1335.63")
    assert rows(totals) == {("S", "5.5"): ("86.38", "4.75"), ("S", "20"): ("1249.25", "249.85")}
    assert totals.tax_total == D("254.60")
    assert totals.total == D("1590.23")
    assert totals.rounding_method == ROUNDING_EN16931


def test_french_invoice_with_a_document_discount_amount_spread_over_the_rates_in_proportion():
    # 100.00 over bases 1315.00 and 90.93 (sum 1405.93): 100 x 1315.00 / 1405.93 = 93.5324...,
    # 100 x 90.93 / 1405.93 = 6.4676...; floors 93.53 + 6.46 = 99.99, the spare cent goes to the
    # largest remainder (0.0076 > 0.0024): 93.53 + 6.47 = 100.00.
    #   20 %:  1315.00 - 93.53 = 1221.47, VAT 244.294 = 244.29
    #   5.5 %: 90.93 - 6.47 = 84.46,      VAT 4.6453 = 4.65
    # total 1405.93 - 100.00 + 248.94 = 1554.87
    totals = compute_totals(FRENCH_INVOICE, "EUR", discount=Discount("amount", D("100.00")))

    assert totals.discount_total == D("100.00")
    assert rows(totals) == {("S", "5.5"): ("84.46", "4.65"), ("S", "20"): ("1221.47", "244.29")}
    assert totals.tax_total == D("248.94")
    assert totals.total == D("1554.87")


def test_vat_is_rounded_once_on_the_summed_base_not_per_line():
    # Per line 0.30 x 5.5 % = 0.0165 -> 0.02, three times 0.06; on the base 0.90 x 5.5 % = 0.0495 -> 0.05.
    totals = compute_totals([line("1", "0.30", S55)] * 3, "EUR")

    assert rows(totals) == {("S", "5.5"): ("0.90", "0.05")}
    assert totals.total == D("0.95")


def test_line_nets_are_rounded_half_up_before_they_are_summed():
    # 3 x 0.125 = 0.375 -> 0.38 (half up); twice: net total 0.76, not round(0.75) = 0.75.
    totals = compute_totals([line("3", "0.125", S20), line("3", "0.125", S20)], "EUR")

    assert totals.line_nets == (D("0.38"), D("0.38"))
    assert totals.net_total == D("0.76")
    assert rows(totals) == {("S", "20"): ("0.76", "0.15")}  # 0.152


def test_prices_including_tax_keep_the_entered_gross_total():
    # 10.00 incl. 20 %: base 10.00 / 1.2 = 8.333 -> 8.33, VAT 1.666 -> 1.67; 8.33 + 1.67 = 10.00.
    totals = compute_totals([line("1", "10.00", S20)], "EUR", prices_include_tax=True)

    assert (totals.net_total, totals.tax_total, totals.total) == (D("8.33"), D("1.67"), D("10.00"))
    assert totals.rounding_method == ROUNDING_EN16931_GROSS_KEPT


def test_prices_including_tax_when_no_base_gives_the_gross_the_vat_takes_the_cent():
    # 0.15 incl. 20 %: 0.15 / 1.2 = 0.125; base 0.12 gives 0.12 + 0.02 = 0.14, base 0.13 gives
    # 0.13 + 0.03 = 0.16: no base gives 0.15, so base 0.13 and VAT 0.02 (0.026 rounded would be 0.03).
    totals = compute_totals([line("1", "0.15", S20)], "EUR", prices_include_tax=True)

    assert rows(totals) == {("S", "20"): ("0.13", "0.02")}
    assert totals.total == D("0.15")


def test_prices_including_tax_spread_the_base_over_the_lines_by_largest_remainder():
    # Gross 3 x 1.00 incl. 5.5 %: base 3.00 / 1.055 = 2.8436 -> 2.84, VAT 0.1562 -> 0.16, total 3.00.
    # Each line 1.00 / 1.055 = 0.94787: floors 3 x 0.94 = 2.82, two spare cents: 0.95, 0.95, 0.94.
    totals = compute_totals([line("1", "1.00", S55)] * 3, "EUR", prices_include_tax=True)

    assert sorted(totals.line_nets) == [D("0.94"), D("0.95"), D("0.95")]
    assert rows(totals) == {("S", "5.5"): ("2.84", "0.16")}
    assert totals.total == D("3.00")


def test_prices_including_tax_with_a_document_discount_take_it_off_the_gross():
    # The French invoice entered tax included, less 100.00 incl. tax: groups 1315.00 and 90.93 gross,
    # the 100.00 split 93.53 / 6.47 as above; 20 %: 1221.47 / 1.2 = 1017.8916 -> 1017.89, VAT 203.578
    # -> 203.58 (1017.89 + 203.58 = 1221.47); 5.5 %: 84.46 / 1.055 = 80.0568 -> 80.06, VAT 4.4033 ->
    # 4.40 (80.06 + 4.40 = 84.46). Total 1305.93 = 1405.93 - 100.00.
    totals = compute_totals(FRENCH_INVOICE, "EUR", prices_include_tax=True, discount=Discount("amount", D("100.00")))

    assert rows(totals) == {("S", "5.5"): ("80.06", "4.40"), ("S", "20"): ("1017.89", "203.58")}
    assert totals.total == D("1305.93")
    assert totals.net_total - totals.discount_total == D("1017.89") + D("80.06")


def test_prices_including_two_taxes_take_the_neighbouring_base_that_gives_the_gross_exactly():
    # 10.01 incl. 5 % and 9.975 % (a Quebec-style pair): 10.01 / 1.14975 = 8.7062 -> 8.71, whose taxes
    # 0.4355 -> 0.44 and 0.8688 -> 0.87 give 10.02; base 8.70: 0.435 -> 0.44, 0.8678 -> 0.87, 10.01 exactly.
    qst = TaxRate("S", D("9.975"))
    totals = compute_totals([line("1", "10.01", S5, qst)], "EUR", prices_include_tax=True)

    assert rows(totals) == {("S", "5"): ("8.70", "0.44"), ("S", "9.975"): ("8.70", "0.87")}
    assert totals.total == D("10.01")


def test_a_line_with_two_taxes_is_in_the_base_of_each():
    # 100.00 with 5 % and 7 % (each on the net, not compounded) and 50.00 with 5 % only:
    # 5 % on 150.00 = 7.50, 7 % on 100.00 = 7.00; total 150.00 + 14.50 = 164.50.
    totals = compute_totals([line("1", "100.00", S5, S7), line("1", "50.00", S5)], "EUR")

    assert rows(totals) == {("S", "5"): ("150.00", "7.50"), ("S", "7"): ("100.00", "7.00")}
    assert totals.total == D("164.50")


def test_zero_decimal_currencies_round_to_whole_units():
    totals = compute_totals([line("3", "333.5", S10)], "JPY")  # 1000.5 -> 1001, VAT 100.1 -> 100

    assert (totals.net_total, totals.tax_total, totals.total) == (D("1001"), D("100"), D("1101"))


def test_to_dict_writes_strings_and_from_dict_reads_them_back():
    totals = compute_totals(FRENCH_INVOICE, "EUR", discount=Discount("percent", D("5")))
    data = totals.to_dict()

    assert data["total"] == "1590.23" and data["tax_breakdown"][0] == {
        "category": "S", "rate": "5.5", "base": "86.38", "amount": "4.75"}
    assert Totals.from_dict(data) == totals


@pytest.mark.parametrize("build, field", [
    (lambda: TaxRate("X", D("20")), "category"),
    (lambda: TaxRate("S", D("0")), "rate"),
    (lambda: TaxRate("Z", D("5")), "rate"),
    (lambda: TaxRate("S", D("100")), "rate"),
    (lambda: Discount("percent", D("101")), "discount.value"),
    (lambda: Discount("amount", D("-1")), "discount.value"),
    (lambda: Discount("half", D("1")), "discount.kind"),
    (lambda: compute_totals([line("1", "10", S20, discount=Discount("amount", D("10.01")))], "EUR"),
     "lines.0.discount.value"),
    (lambda: compute_totals([line("1", "10")], "EUR"), "lines.0.taxes"),
    (lambda: compute_totals([line("1", "10", S20, S20)], "EUR"), "lines.0.taxes"),
    (lambda: compute_totals([line("1", "10", S20)], "EUR", discount=Discount("amount", D("10.01"))), "discount.value"),
    (lambda: compute_totals([line("1", "10", S20)], "XYZ"), "currency"),
    (lambda: compute_totals([line("1", "10", S20)], "EUR", discount=Discount("amount", D("1.005"))), "discount.value"),
    (lambda: compute_totals([line("1", "10", S20, discount=Discount("amount", D("0.5")))], "JPY"),
     "lines.0.discount.value"),
    (lambda: compute_totals([line("999999999999999999", "999999999999.999999", S20)], "EUR"), "lines.0"),
])
def test_invalid_taxes_discounts_and_lines_name_the_field(build, field):
    with pytest.raises(InvalidInput) as raised:
        build()
    assert list(raised.value.errors) == [field]


# Properties -----------------------------------------------------------------------------------

def test_a_full_line_discount_leaves_a_line_net_of_zero_never_a_negative_cent():
    # 0.001 x 2875.00 = 2.875; 100 % of it rounds to 2.88, more than the line: the discount takes 2.875, net 0.00.
    totals = compute_totals([line("0.001", "2875.00", S20, discount=Discount("percent", D("100")))], "EUR")

    assert totals.line_nets == (D("0.00"),)
    assert (totals.net_total, totals.tax_total, totals.total) == (D("0.00"), D("0.00"), D("0.00"))


TAX_SETS = [(S20,), (S10,), (S55,), (S21,), (Z,), (E,), (AE,), (S5, S7)]



@st.composite
def lines(draw):
    quantity = draw(st.decimals(min_value=D("0.001"), max_value=D("1000"), places=3))
    price = draw(st.decimals(min_value=D("0"), max_value=D("10000"), places=draw(st.integers(0, 4))))
    discount = draw(st.one_of(
        st.none(),
        st.builds(Discount, st.just("percent"), st.decimals(min_value=0, max_value=100, places=2)),
        st.floats(0, 1).map(lambda share: Discount(
            "amount", (quantity * price * D(str(share))).quantize(D("1"), rounding=ROUND_FLOOR))),  # whole units: JPY too
    ))
    return Line("item", quantity, "unit", price, draw(st.sampled_from(TAX_SETS)), discount)


documents = st.tuples(
    st.lists(lines(), min_size=1, max_size=8),
    st.sampled_from(["EUR", "JPY", "KWD"]),
    st.one_of(st.none(), st.builds(Discount, st.just("percent"), st.decimals(min_value=0, max_value=100, places=2))),
)


@given(st.lists(lines(), min_size=1, max_size=8), st.sampled_from(["EUR", "JPY", "KWD"]))
def test_a_line_discount_never_makes_a_line_net_negative(items, currency):
    assert all(net >= 0 for net in compute_totals(items, currency).line_nets)


def half_up(amount, currency):
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


@given(documents)
def test_totals_are_the_sum_of_the_rounded_line_nets_and_vat_is_per_rate_on_the_summed_base(document):
    items, currency, discount = document
    totals = compute_totals(items, currency, discount=discount)

    for item, net in zip(items, totals.line_nets):
        amount = item.quantity * item.unit_price
        off = D(0) if item.discount is None else item.discount.off(amount, minor_unit(currency), "x")
        assert net == half_up(amount - off, currency)
    assert totals.net_total == sum(totals.line_nets)
    for row in totals.tax_breakdown:
        nets_with_it = sum(net for item, net in zip(items, totals.line_nets) if TaxRate(row.category, row.rate) in item.taxes)
        assert row.amount == half_up(row.base * row.rate / 100, currency)
        assert 0 <= nets_with_it - row.base <= totals.discount_total
        if discount is None:
            assert row.base == nets_with_it
    assert totals.tax_total == sum(row.amount for row in totals.tax_breakdown)
    assert totals.total == totals.net_total - totals.discount_total + totals.tax_total
    assert Totals.from_dict(totals.to_dict()) == totals


@given(documents)
def test_prices_including_tax_keep_the_entered_gross_and_vat_stays_within_one_minor_unit(document):
    items, currency, discount = document
    unit = minor_unit(currency)
    totals = compute_totals(items, currency, prices_include_tax=True, discount=discount)

    grosses = {}
    for item in items:
        amount = item.quantity * item.unit_price
        off = D(0) if item.discount is None else item.discount.off(amount, unit, "x")
        taxes = tuple(sorted(item.taxes))
        grosses[taxes] = grosses.get(taxes, D(0)) + half_up(amount - off, currency)
    expected = sum(gross - (D(0) if discount is None else discount.off(gross, unit, "x")) for gross in grosses.values())
    assert totals.total == expected
    assert totals.net_total == sum(totals.line_nets)
    for row in totals.tax_breakdown:
        groups_with_it = sum(1 for taxes in grosses if TaxRate(row.category, row.rate) in taxes)
        assert abs(row.amount - half_up(row.base * row.rate / 100, currency)) <= unit * groups_with_it


@given(st.lists(lines(), min_size=1, max_size=8), st.integers(0, 100))
def test_a_document_discount_amount_is_spread_exactly_over_the_rates(items, percent_of_total):
    items = [replace(item, taxes=item.taxes[:1]) for item in items]  # one VAT per line, as in EN 16931
    net_total = compute_totals(items, "EUR").net_total
    value = (net_total * percent_of_total / 100).quantize(D("0.01"), rounding=ROUND_FLOOR)
    totals = compute_totals(items, "EUR", discount=Discount("amount", value))

    assert totals.discount_total == value
    assert sum(row.base for row in totals.tax_breakdown) == net_total - value
