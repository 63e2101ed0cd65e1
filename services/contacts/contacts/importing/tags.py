"""What people (and Google, Outlook, vCard) write for our tags and statuses.

Each reader takes free text ('Work Fax', 'Portable', 'TYPE=cell,voice',
'Abonné') and answers one of the domain's codes, or None when the text says
nothing it knows. Words are compared folded (see folding.py).
"""
from __future__ import annotations

from contacts.importing.folding import fold, words

# (tag, words); the first tag with a matching word wins, so 'Work Fax' is a fax
_PHONE_WORDS = (
    ("fax", {"fax", "telecopie", "telecopieur"}),
    ("mobile", {"mobile", "cell", "cellular", "cellulaire", "portable", "gsm", "iphone", "mob", "port"}),
    ("direct_line", {"direct", "directe"}),
    ("work", {"work", "business", "bureau", "travail", "pro", "professionnel", "professionnelle", "office", "company",
              "entreprise", "societe"}),
    ("home", {"home", "domicile", "maison", "perso", "personnel", "personnelle", "personal", "private", "prive"}),
    ("main", {"main", "principal", "principale", "primary", "standard", "fixe", "voice", "pref"}),
    ("other", {"other", "autre", "autres", "pager", "callback", "radio", "car", "assistant", "bip"}),
)
_EMAIL_WORDS = (
    ("work", _PHONE_WORDS[3][1]),
    ("home", _PHONE_WORDS[4][1]),
    ("main", {"main", "principal", "principale", "primary", "pref"}),
    ("other", {"other", "autre", "autres"}),
)
_ADDRESS_WORDS = (
    ("billing", {"billing", "facturation", "invoice", "invoicing", "factures"}),
    ("shipping", {"shipping", "livraison", "delivery", "expedition"}),
    ("work", _PHONE_WORDS[3][1] | {"siege"}),
    ("home", _PHONE_WORDS[4][1]),
    ("other", {"other", "autre", "autres"}),
)
_SUBSCRIPTION = {
    "subscribed": {"subscribed", "abonne", "abonnee", "inscrit", "inscrite", "opt in", "optin", "yes", "oui", "true",
                   "vrai", "1", "x"},
    "unsubscribed": {"unsubscribed", "desabonne", "desabonnee", "desinscrit", "desinscrite", "opt out", "optout", "no",
                     "non", "false", "faux", "0"},
    "pending": {"pending", "en attente", "attente", "a confirmer", "double opt in en attente"},
    "not_set": {"not set", "non renseigne", "inconnu", "unknown"},
}
_DELIVERABILITY = {
    "valid": {"valid", "valide", "ok", "deliverable", "delivrable"},
    "bounced": {"bounced", "bounce", "rebond", "hard bounce", "invalide", "invalid"},
    "spam_complaint": {"spam complaint", "spam", "plainte spam", "plainte"},
    "inactive": {"inactive", "inactif", "inactifs"},
    "not_set": {"not set", "non renseigne", "inconnu", "unknown"},
}


def _first_tag(text: str, table: tuple) -> str | None:
    found = words(text)
    return next((tag for tag, vocabulary in table if any(word in vocabulary for word in found)), None)


def phone_tag(text: str) -> str | None:
    """'Mobile' / 'Portable' / 'cell,voice' -> 'mobile'; 'Work Fax' -> 'fax'; 'direct_line' -> 'direct_line'."""
    return _first_tag(text, _PHONE_WORDS)


def email_tag(text: str) -> str | None:
    """'* Work' / 'Travail' / 'INTERNET,WORK' -> 'work'; 'Perso' -> 'home'."""
    return _first_tag(text, _EMAIL_WORDS)


def address_tag(text: str) -> str | None:
    """'Work' / 'Bureau' -> 'work'; 'Facturation' -> 'billing'; 'Livraison' -> 'shipping'."""
    return _first_tag(text, _ADDRESS_WORDS)


def subscription_status(text: str) -> str | None:
    """'subscribed' / 'Abonné' / 'oui' -> 'subscribed'; 'Désabonné' / 'non' -> 'unsubscribed'; None if unknown."""
    return _lookup(text, _SUBSCRIPTION)


def deliverability(text: str) -> str | None:
    """'valid' / 'Valide' -> 'valid'; 'bounced' / 'Rebond' -> 'bounced'; 'spam_complaint' / 'Plainte spam'..."""
    return _lookup(text, _DELIVERABILITY)


def _lookup(text: str, table: dict[str, set[str]]) -> str | None:
    folded = fold(text)  # 'spam_complaint' folds to 'spam complaint'
    return next((code for code, names in table.items() if folded in names), None)
