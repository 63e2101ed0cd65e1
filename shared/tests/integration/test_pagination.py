"""Cursor pages on the real MongoDB server: ties in the sort field are broken by _id, nothing skipped or repeated."""
from datetime import datetime, timedelta, timezone

from crm_platform.pagination import keyset_page


def test_pages_walk_every_document_once_in_order_even_with_equal_sort_values(mongo_db):
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    docs = [{"_id": f"d{i:02}", "account_id": "a", "at": start + timedelta(minutes=i // 3)} for i in range(10)]
    mongo_db["items"].insert_many([*docs, {"_id": "other", "account_id": "b", "at": start}])
    seen, cursor = [], None
    while True:
        page, cursor = keyset_page(mongo_db["items"], {"account_id": "a"}, sort="-at", field="at", limit=4,
                                   cursor=cursor, dated=True)
        seen.extend(d["_id"] for d in page)
        if cursor is None:
            break
    expected = [d["_id"] for d in sorted(docs, key=lambda d: (d["at"], d["_id"]), reverse=True)]
    assert seen == expected
