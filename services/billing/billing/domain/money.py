"""Money as Decimal: ISO 4217 currencies and their minor units, rounding, and parsing client numbers.

Money is never a float: amounts are Decimal in the domain and strings ("12.50") in storage and events.

The minor units are an explicit ISO 4217 table (List One, active currencies) rather than babel's
CLDR data: CLDR's `digits` are the digits people display, which differ from ISO 4217 for several
currencies (IQD: CLDR 0, ISO 3; AFN, ALL, IRR, LBP, MGA, RSD...: CLDR 0, ISO 2), and its list keeps
withdrawn currencies (FRF, DEM). Invoices (EN 16931) round to the ISO 4217 minor unit.
Funds, precious metals and test codes (XAU, XDR, XTS, XXX...) have no minor unit and are refused.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from crm_platform.errors import InvalidInput

# Active ISO 4217 codes by minor unit. ANG and BGN are withdrawn (replaced by XCG in 2025 and by EUR
# in 2026) and kept so that a credit note can still correct an invoice issued in them.
_ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMALS = "CLF UYW"
_TWO_DECIMALS = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
    "GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL "
    "MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK "
    "PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
    "TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)
MINOR_UNITS: dict[str, int] = {
    code: places
    for codes, places in ((_ZERO_DECIMALS, 0), (_TWO_DECIMALS, 2), (_THREE_DECIMALS, 3), (_FOUR_DECIMALS, 4))
    for code in codes.split()
}

_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,6})?", re.ASCII)
# An exponent this large is refused before Decimal does any arithmetic with it ("1e999999").
_MAX_EXPONENT = 100


class InvalidCurrency(InvalidInput):
    """Not an active ISO 4217 currency code."""

    def __init__(self, code: object, field: str = "currency") -> None:
        shown = code if isinstance(code, str) and len(code) <= 8 else type(code).__name__
        message = f"{shown!r} is not an ISO 4217 currency code (three letters, e.g. EUR)"
        super().__init__(message, errors={field: [message]})


def parse_currency(code: object, field: str = "currency") -> str:
    """The upper-case ISO 4217 code of a client's value; InvalidCurrency naming the field otherwise."""
    if not isinstance(code, str) or len(code) != 3 or code.upper() not in MINOR_UNITS:
        raise InvalidCurrency(code, field)
    return code.upper()


def minor_units(currency: str) -> int:
    """Digits after the decimal point of the currency's minor unit (EUR 2, JPY 0, KWD 3)."""
    return MINOR_UNITS[parse_currency(currency)]


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency as a Decimal exponent: Decimal("0.01") for EUR."""
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """The amount rounded half up (away from zero on a tie) to the currency's minor unit."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def parse_decimal(value: object, field: str, *, max_digits: int = 18, max_places: int = 6,
                  minimum: Decimal | int | None = None) -> Decimal:
    """A Decimal from a client's string or int, never a float; InvalidInput naming the field.

    Refused: floats (binary, already inexact), booleans, NaN and Infinity, exponents beyond
    +/-100, more than `max_places` digits after the point, more than `max_digits` in all
    (trailing zeros after the point are not counted: "1.500000000" is 1.5), below `minimum`.
    """
    def refuse(message: str) -> InvalidInput:
        return InvalidInput(f"{field} {message}", errors={field: [message]})

    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise refuse("must be a decimal number written as a string (e.g. \"12.50\") or an integer")
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64:
            raise refuse("must be a decimal number of at most 64 characters")
        if text.lower().lstrip("+-") in ("nan", "snan", "inf", "infinity"):
            raise refuse("must be a finite number (not NaN or Infinity)")
        if not _DECIMAL_TEXT.fullmatch(text):
            raise refuse("is not a decimal number (digits, one optional point, e.g. \"12.50\")")
        number = Decimal(text)
    else:
        if abs(value) >= 10 ** max_digits:
            raise refuse(f"has more than {max_digits} digits")
        number = Decimal(value)
    if not number.is_finite():
        raise refuse("must be a finite number (not NaN or Infinity)")
    if abs(number.as_tuple().exponent) > _MAX_EXPONENT:
        raise refuse("has an exponent out of range")
    if number.adjusted() >= max_digits:  # before any arithmetic: "1e99" has 100 digits
        raise refuse(f"has more than {max_digits} digits")
    number = _without_trailing_fraction_zeros(number)
    places = max(0, -number.as_tuple().exponent)
    if places > max_places:
        raise refuse(f"has more than {max_places} digits after the decimal point")
    if len(number.as_tuple().digits) > max_digits:
        raise refuse(f"has more than {max_digits} digits")
    if minimum is not None and number < Decimal(minimum):
        raise refuse(f"must be at least {minimum}")
    return number + 0  # normalises -0 to 0


def _without_trailing_fraction_zeros(number: Decimal) -> Decimal:
    """1.500 -> 1.5 and 1E+2 -> 100: fewer places, same value, never exponent notation."""
    sign, digits, exponent = number.as_tuple()
    if exponent > 0:
        return number.quantize(Decimal(1))
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    if exponent < 0 and digits == (0,):
        exponent = 0
    return Decimal((sign, digits, exponent))


def money_text(amount: Decimal) -> str:
    """How an amount is stored and published: plain notation, never an exponent ("12.50", "0.00")."""
    return format(amount, "f")
