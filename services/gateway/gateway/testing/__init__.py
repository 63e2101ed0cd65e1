"""Test support for the gateway: fakes held to the same contracts as its adapters, and scripted upstreams."""
