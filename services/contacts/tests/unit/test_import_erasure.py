"""The imports that mention a person being erased: found in their file or failed rows, forgotten, listed once."""
from crm_platform.personal_data import SubjectErased

from contacts.service_layer.import_erasure import forget_imports_mentioning, mentions_of

LOUISE = mentions_of(["Louise@Papier.fr"], ["+33612345678"])


class Imports:
    """ImportStore's part that import_erasure uses, in memory."""

    def __init__(self, records: dict[str, dict], failures: dict[str, list] | None = None):
        self.records, self.failures = records, failures or {}

    def not_forgotten(self, account_id):
        return [r for r in self.records.values() if r["account_id"] == account_id and r["status"] != "expired"]

    def forgotten_by(self, account_id, request_event):
        return [r for r in self.records.values()
                if r["account_id"] == account_id and r.get("forgotten_by") == request_event]

    def failed_rows(self, import_id):
        yield from self.failures.get(import_id, [])

    def expire(self, import_id, forgotten_by=None):
        self.records[import_id].update(status="expired", forgotten_by=forgotten_by)
        self.records[import_id].pop("blob_id", None)


class Uploads:
    def __init__(self, files: dict[str, bytes]):
        self.files, self.shredded = files, set()

    def read(self, record):
        if record["_id"] in self.shredded:
            raise SubjectErased(record["_id"])
        return self.files[record["_id"]]

    def forget(self, record):
        destroyed = record["_id"] not in self.shredded
        self.shredded.add(record["_id"])
        return destroyed


def record(import_id, account="acct-1"):
    return {"_id": import_id, "account_id": account, "status": "started", "blob_id": f"blob-{import_id}"}


def test_a_mention_in_the_file_or_only_in_the_failed_rows_forgets_the_import_once():
    imports = Imports({i: record(i) for i in ("import:file", "import:rows", "import:none")} |
                      {"import:theirs": record("import:theirs", account="acct-2")},
                      {"import:rows": [(3, ["Louise", "06.12.34.56.78"], ["no email"])]})
    uploads = Uploads({"import:file": "Nom;Email\nPapier;louise@papier.fr\n".encode("cp1252"),
                       "import:rows": b"first rows only\n", "import:none": b"Paul;paul@papier.fr;0102030405\n",
                       "import:theirs": b"louise@papier.fr\n"})
    forgotten = forget_imports_mentioning(imports, uploads, "acct-1", LOUISE, "evt-1")
    assert sorted(forgotten) == ["import:file", "import:rows"]
    assert uploads.shredded == {"import:file", "import:rows"} and imports.records["import:rows"]["status"] == "expired"
    assert forget_imports_mentioning(imports, uploads, "acct-1", LOUISE, "evt-1") == forgotten  # the same request
    assert forget_imports_mentioning(imports, uploads, "acct-1", LOUISE, "evt-2") == []  # another one


def test_an_import_whose_key_is_shredded_already_is_not_claimed_and_no_mentions_search_nothing():
    imports = Imports({"import:gone": record("import:gone")})
    uploads = Uploads({"import:gone": b"louise@papier.fr\n"})
    uploads.shredded.add("import:gone")  # forgotten by the sweep, which had not marked the record yet
    assert forget_imports_mentioning(imports, uploads, "acct-1", LOUISE, "evt-1") == []
    assert forget_imports_mentioning(imports, uploads, "acct-1", mentions_of([], ["+331"]), None) == []


def test_phones_match_however_the_file_writes_them_and_short_numbers_match_nothing():
    assert LOUISE.found_in("tel: +33 (0)6 12 34 56 78") and LOUISE.found_in("0033612345678")
    assert not LOUISE.found_in("06 12 34 56 79") and not LOUISE.found_in("louise@papier.com")
    assert not mentions_of([], ["+33 1"])  # too short to tell anyone apart
