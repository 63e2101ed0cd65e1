"""The initials a list sorted by name reads one at a time keep the names' order."""
import random
import string

from contacts.adapters.name_initials import INITIALS, initial_of
from contacts.adapters.search_keys import fold, search_fields

ALPHABET = string.printable + "éèàçøßæœłđħıİ∂ωΩЖж中文ễ\u00a0\u2028😀\U0010ffff"


def test_initials_are_in_the_order_of_the_names_they_start():
    rng = random.Random(7)
    names = ["", "0", "9", "a", "z", "{", "~", "\x7f", "é", "/", ":", "@", "`"]
    names += ["".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 6))) for _ in range(5000)]
    names = [fold(name) for name in names]
    by_initial = sorted(names, key=lambda name: (INITIALS.index(initial_of(name)), name))
    assert by_initial == sorted(names)  # code point order, as MongoDB compares strings
    assert {initial_of(name) for name in names} == set(INITIALS)


def test_the_read_model_keeps_the_initials_of_the_folded_names():
    fields = search_fields({"first_name": "Élodie", "last_name": "Ørsted"})
    assert (fields["sort_first_initial"], fields["sort_last_initial"]) == ("e", ">z")
    assert (search_fields({})["sort_first_initial"], search_fields({"last_name": "  "})["sort_last_initial"]) == ("", "")
