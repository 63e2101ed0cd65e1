"""Writes the corpus files next to this script: `python generate.py`.

The files are kept in the repository so people can open them; this script
records how each one was made (encoding, BOM, delimiter, line ends).
"""
from pathlib import Path

HERE = Path(__file__).parent

OUTLOOK_HEADER = (
    "First Name,Middle Name,Last Name,Title,Suffix,Initials,Web Page,Gender,Birthday,Anniversary,Location,"
    "Language,Internet Free Busy,Notes,E-mail Address,E-mail 2 Address,E-mail 3 Address,Primary Phone,Home Phone,"
    "Home Phone 2,Mobile Phone,Pager,Home Fax,Home Address,Home Street,Home Street 2,Home Street 3,"
    "Home Address PO Box,Home City,Home State,Home Postal Code,Home Country/Region,Spouse,Children,"
    "Manager's Name,Assistant's Name,Referred By,Company Main Phone,Business Phone,Business Phone 2,Business Fax,"
    "Assistant's Phone,Company,Job Title,Department,Office Location,Organizational ID Number,Profession,Account,"
    "Business Address,Business Street,Business Street 2,Business Street 3,Business Address PO Box,Business City,"
    "Business State,Business Postal Code,Business Country/Region,Other Phone,Other Fax,Other Address,Other Street,"
    "Other Street 2,Other Street 3,Other Address PO Box,Other City,Other State,Other Postal Code,"
    "Other Country/Region,Callback,Car Phone,ISDN,Radio Phone,TTY/TDD Phone,Telex,User 1,User 2,User 3,User 4,"
    "Keywords,Mileage,Hobby,Billing Information,Directory Server,Sensitivity,Priority,Private,Categories"
).split(",")
OUTLOOK_ROW = {
    "First Name": "Louise", "Last Name": "Desnotés", "Title": "Mme", "Initials": "L.D.",
    "Web Page": "https://maison-papier.fr", "Notes": "Rencontrée au salon", "E-mail Address": "louise@maison-papier.fr",
    "E-mail 2 Address": "louise.d@gmail.com", "Home Phone": "03 20 00 00 01", "Mobile Phone": "06 12 34 56 78",
    "Home Address": "8 allée des Tilleuls\r\n59100 Roubaix\r\nFrance", "Home Street": "8 allée des Tilleuls",
    "Home City": "Roubaix", "Home Postal Code": "59100", "Home Country/Region": "France",
    "Business Phone": "03 20 06 51 26", "Business Fax": "03 20 06 51 27", "Company": "Maison du Papier",
    "Job Title": "Gérante", "Department": "Ventes", "Business Street": "12 rue de la Paix", "Business Street 2": "Bât B",
    "Business City": "Lille", "Business State": "Hauts-de-France", "Business Postal Code": "59000",
    "Business Country/Region": "France", "Sensitivity": "Normal", "Priority": "Normal", "Private": "False",
    "Categories": "Clients;VIP",
}


def _outlook_export() -> bytes:
    """Outlook's "Comma Separated Values" export: every column, ANSI code page, CRLF."""
    def quoted(cell: str) -> str:
        return f'"{cell}"' if any(c in cell for c in ',"\r\n') else cell

    lines = [",".join(OUTLOOK_HEADER), ",".join(quoted(OUTLOOK_ROW.get(name, "")) for name in OUTLOOK_HEADER)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


FILES = {
    # Excel "CSV UTF-8": BOM, commas, CRLF
    "utf8_bom_comma.csv": (
        "\ufeffFirst Name,Last Name,Company,Email,Mobile,Work Phone,City,Country,Labels\r\n"
        "Louise,Desnotés,Maison du Papier,louise@maison-papier.fr,06 12 34 56 78,03 20 06 51 26,Lille,France,\"Clients, VIP\"\r\n"
        "Zoë,Brontë,\"Brontë & Fils, SARL\",zoe@bronte.co.uk,+44 7700 900123,,London,United Kingdom,Prospects\r\n"
    ).encode("utf-8"),
    # LibreOffice / Google Sheets style: no BOM, semicolons, LF, French headers
    "utf8_semicolon.csv": (
        "Prénom;Nom de famille;Entreprise;Courriel;Tél;Adresse;CP;Ville;Pays;Site web;N° TVA\n"
        "François;Lefèvre;Société Générale de Crêpes;f.lefevre@crepes.fr;01 42 68 53 00;"
        "12, rue de l'Église;75004;Paris;France;www.crepes.fr;FR40303265045\n"
        "Anaïs;Dupré;L'Œuf Cocotte;anais@oeuf.be;+32 2 555 12 12;Rue Haute 5, bte 3;1000;Bruxelles;Belgique;;\n"
    ).encode("utf-8"),
    # Excel "Unicode text": UTF-16 LE with BOM, tabs, CRLF
    "excel_unicode_text.txt": (
        "\ufeffPrénom\tNom\tSociété\tE-mail\tTéléphone\tPays\r\n"
        "Hélène\tMüller\tÉditions Ångström, Zürich\thelene@angstrom.ch\t+41 44 668 18 00\tSuisse\r\n"
        "Jürgen\tSchäfer\tBäckerei Schäfer\tj.schafer@baeckerei.de\t+49 30 901820\tAllemagne\r\n"
    ).encode("utf-16-le"),
    # French Excel "CSV (séparateur: point-virgule)": Windows-1252, semicolons, CRLF
    "excel_fr_windows1252.csv": (
        "Prénom;Nom;Société;Téléphone;Portable;E-mail;Code postal;Ville;Pays\r\n"
        "Louise;Desnotés;Maison du Papier;03 20 06 51 26;06 12 34 56 78;louise@maison-papier.fr;59000;Lille;France\r\n"
        "Cécile;Lœuillet;Bœuf & Cie – Traiteur;03 88 00 00 00;07 11 22 33 44;cecile@boeuf.fr;67000;Strasbourg;FR\r\n"
        "Benoît;Garçon;Ça Va Crémerie;;;benoit@cremerie.fr;1000;Bruxelles;Belgique\r\n"
    ).encode("cp1252"),
    # quoted cells with newlines and delimiters, blank lines, trailing empty columns, a short row
    "multiline_blank_trailing.csv": (
        "Prénom,Nom,Adresse,Ville,Notes,,,\r\n"
        "Louise,Desnotés,\"12 rue de la Paix\nBâtiment B, 2e étage\",Lille,\"Dit \"\"bonjour\"\", toujours\",,,\r\n"
        "\r\n"
        "Jean,Dupont,\"3, place du Marché\",Arras,,,,\r\n"
        "\r\n"
        "\r\n"
        "Marie,Curie\r\n"
    ).encode("utf-8"),
    "google_contacts.csv": (
        "First Name,Middle Name,Last Name,Phonetic First Name,Phonetic Middle Name,Phonetic Last Name,Name Prefix,"
        "Name Suffix,Nickname,File As,Organization Name,Organization Title,Organization Department,Birthday,Notes,"
        "Photo,Labels,E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,Phone 1 - Label,"
        "Phone 1 - Value,Phone 2 - Label,Phone 2 - Value,Address 1 - Label,Address 1 - Formatted,Address 1 - Street,"
        "Address 1 - City,Address 1 - PO Box,Address 1 - Region,Address 1 - Postal Code,Address 1 - Country,"
        "Address 1 - Extended Address,Website 1 - Label,Website 1 - Value\r\n"
        "Louise,,Desnotés,,,,,,,,Maison du Papier,Gérante,Ventes,1980-02-01,,,* myContacts ::: Clients ::: VIP,"
        "* Work,louise@maison-papier.fr,Home,louise.d@gmail.com,Mobile,+33 6 12 34 56 78 ::: +33 6 98 76 54 32,"
        "Work Fax,+33 3 20 06 51 27,Work,\"12 rue de la Paix\nBât B\n59000 Lille\nFrance\",\"12 rue de la Paix\nBât B\","
        "Lille,,Hauts-de-France,59000,France,,,maison-papier.fr\r\n"
        "Marc,,Petit,,,,,,,,,,,,,,* myContacts ::: * starred,,marc.petit@example.org,,,,,,,,,,,,,,,,,\r\n"
    ).encode("utf-8"),
    "google_contacts_legacy.csv": (
        "Name,Given Name,Additional Name,Family Name,Yomi Name,Given Name Yomi,Additional Name Yomi,Family Name Yomi,"
        "Name Prefix,Name Suffix,Initials,Nickname,Short Name,Maiden Name,Birthday,Gender,Location,Billing Information,"
        "Directory Server,Mileage,Occupation,Hobby,Sensitivity,Priority,Subject,Notes,Language,Photo,Group Membership,"
        "E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,Address 1 - Type,Address 1 - Formatted,"
        "Address 1 - Street,Address 1 - City,Address 1 - PO Box,Address 1 - Region,Address 1 - Postal Code,"
        "Address 1 - Country,Address 1 - Extended Address,Organization 1 - Type,Organization 1 - Name,"
        "Organization 1 - Yomi Name,Organization 1 - Title,Organization 1 - Department,Organization 1 - Symbol,"
        "Organization 1 - Location,Organization 1 - Job Description,Website 1 - Type,Website 1 - Value\r\n"
        "Louise Desnotés,Louise,,Desnotés,,,,,,,,,,,,,,,,,,,,,,,,,* My Contacts ::: Fournisseurs,"
        "* Work,louise@maison-papier.fr,Work,03 20 06 51 26,Home,,8 allée des Tilleuls,Roubaix,BP 12,,59100,France,,"
        ",Maison du Papier,,Gérante,Achats,,,,Profile,https://maison-papier.fr\r\n"
    ).encode("utf-8"),
    "outlook_contacts.csv": _outlook_export(),
    "contacts_v3.vcf": (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Desnotés;Louise;;;\r\nFN:Louise Desnotés\r\n"
        "ORG:Maison du Papier;Ventes\r\nTITLE:Gérante\r\nROLE:Direction\r\n"
        "EMAIL;TYPE=INTERNET,WORK,PREF:louise@maison-papier.fr\r\nEMAIL;TYPE=INTERNET,HOME:louise.d@gmail.com\r\n"
        "TEL;TYPE=WORK,VOICE:+33 3 20 06 51 26\r\nTEL;TYPE=CELL:+33 6 12 34 56 78\r\nTEL;TYPE=WORK,FAX:+33 3 20 06 51 27\r\n"
        "ADR;TYPE=WORK:;Bât B;12 rue de la Paix;Lille;Hauts-de-France;59000;France\r\n"
        "URL:https://maison-papier.fr\r\nCATEGORIES:Clients,VIP\r\n"
        "NOTE:Une note assez longue pour être pliée sur plusieurs lignes selon la RFC 2425\\, \r\n"
        " qui limite les lignes à 75 octets.\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Dupont;Jean;;;\r\nFN:Jean Dupont\r\n"
        "EMAIL;TYPE=INTERNET:jean.dupont@exam\r\n ple.org\r\nTEL;TYPE=HOME:01 23 45 67 89\r\nEND:VCARD\r\n"
    ).encode("utf-8"),
    "contacts_v4.vcf": (
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Anaïs Dupré\r\nN:Dupré;Anaïs;;;\r\nORG:L'Œuf Cocotte\r\n"
        "EMAIL;TYPE=work;PREF=1:anais@oeuf.be\r\n"
        "TEL;VALUE=uri;TYPE=\"work,voice\";PREF=1:tel:+32-2-555-12-12\r\n"
        "TEL;VALUE=uri;TYPE=\"cell,voice\":tel:+32-470-12-34-56\r\n"
        "ADR;TYPE=home;LABEL=\"Rue Haute 5\\n1000 Bruxelles\":;;Rue Haute 5;Bruxelles;;1000;Belgique\r\n"
        "CATEGORIES:Prospects\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Hélène Müller\r\nEMAIL:helene@angstrom.ch\r\n"
        "TEL;TYPE=fax:+41 44 668 18 01\r\nADR:;;Seestrasse 1;Zürich;;8002;CH\r\nEND:VCARD\r\n"
    ).encode("utf-8"),
    "contacts_v21.vcf": (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Desnot=C3=A9s;Louise;;;\r\n"
        "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Louise Desnot=C3=A9s\r\n"
        "TEL;CELL;PREF:06 12 34 56 78\r\nTEL;WORK;VOICE:03 20 06 51 26\r\nEMAIL;INTERNET:louise@maison-papier.fr\r\n"
        "END:VCARD\r\n"
    ).encode("utf-8"),
}


def main() -> None:
    for name, data in FILES.items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
