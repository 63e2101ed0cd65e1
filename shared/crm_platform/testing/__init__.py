"""Test support shared by every service: fixtures for the real broker and database."""
