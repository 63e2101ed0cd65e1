"""Headers people write by hand, in English and French: 'Prénom', 'Courriel', 'Tél. portable', 'CP'...

Whole headers are compared squashed (no accents, case, spaces or
punctuation); emails, phones and address parts are recognised by their words,
with a tag when a word gives one ('E-mail pro' -> work, 'Adresse de
facturation' -> billing). Slots are numbered later, by suggest.py.
"""
from __future__ import annotations

from contacts.importing.folding import squash, words
from contacts.importing.hints import ColumnHint
from contacts.importing.tags import address_tag, email_tag, phone_tag

_WHOLE = {
    "first_name": "prenom prenoms firstname first givenname forename prenomducontact",
    "last_name": "nom nomdefamille lastname surname familyname last nomdusage nomducontact",
    "company": "entreprise societe raisonsociale company companyname organisation organization organisme "
               "etablissement compagnie employeur employer nomdelentreprise nomentreprise nomsociete "
               "nomdelasociete",
    "job_title": "poste jobtitle titredeposte titreduposte intituledeposte intituleduposte position",
    "function": "fonction function role",
    "department": "service departement department dept division",
    "code": "codeclient code customercode clientcode numeroclient numclient refclient referenceclient "
            "customerid customernumber reference ref",
    "vat_number": "tva ntva notva numerotva numtva numerodetva tvaintracommunautaire ntvaintracommunautaire "
                  "numerotvaintracommunautaire numerodetvaintracommunautaire tvaintracom ntvaintracom vat "
                  "vatnumber vatno vatid",
    "info_email": "emailinfo infoemail emailgenerique genericemail emailgeneral",
    "website": "siteweb site siteinternet website web url webpage pageweb homepage internet",
    "labels": "etiquettes etiquette labels label tags tag categories categorie category groupes groupe groups "
              "group groupmembership segments segment",
    "email.subscription_status": "abonnement newsletter statutabonnement subscription subscriptionstatus optin "
                                 "consentement consentementemail inscritnewsletter abonnenewsletter",
    "email.deliverability": "delivrabilite deliverability statutdelivrabilite",
    "skip": "notes note commentaire commentaires comments comment remarques remarque observations",
}
_BY_SQUASHED = {name: target for target, names in _WHOLE.items() for name in names.split()}
_EMAIL_WORDS = {"email", "emails", "mail", "mails", "courriel", "courriels", "messagerie"}
_PHONE_WORDS = {"telephone", "telephones", "tel", "phone", "phones", "portable", "mobile", "cell", "gsm", "fixe",
                "fax", "telecopie", "standard"}
_ADDRESS_PARTS = (  # first match wins: 'Pays/Région' is a country
    ("postal_code", {"cp", "zip", "zipcode", "postcode", "postalcode", "codepostal"}),
    ("country", {"pays", "country"}),
    ("city", {"ville", "city", "town", "localite", "locality", "commune"}),
    ("region", {"region", "state", "province", "etat", "county"}),
    ("street", {"adresse", "address", "rue", "street", "voie", "addr", "adr", "complement"}),
)


def synonym_hint(header: str) -> ColumnHint | None:
    """A hint from the header's words, or None when nothing is recognised."""
    squashed, found = squash(header), set(words(header))
    if squashed in _BY_SQUASHED:
        return ColumnHint(_BY_SQUASHED[squashed])
    if found & _EMAIL_WORDS or "email" in squashed:
        return ColumnHint("email", tag=email_tag(header))
    if found & _PHONE_WORDS or "ligne directe" in " ".join(words(header)):
        return ColumnHint("phone", tag=phone_tag(header))
    if "code" in found and "postal" in found:
        found.add("codepostal")
    for part, names in _ADDRESS_PARTS:
        if found & names:
            return ColumnHint(f"address.{_street_line(found) if part == 'street' else part}", tag=address_tag(header))
    return None


def _street_line(found: set[str]) -> str:
    if "3" in found:
        return "street3"
    return "street2" if "2" in found or "complement" in found else "street"
