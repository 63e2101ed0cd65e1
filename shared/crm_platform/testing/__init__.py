"""Test support shared by every service: fixtures for the real broker and database, fakes, contract suites.

No production module defines a fake: they live here, each held to a contract
suite that the real adapter passes too.
"""
