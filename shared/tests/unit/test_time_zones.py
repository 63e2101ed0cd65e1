"""Time zone names a request may store (crm_platform.time_zones)."""
import pytest

from crm_platform.time_zones import is_iana_zone


@pytest.mark.parametrize("name", ["Europe/Paris", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_iana_zones_are_accepted(name):
    assert is_iana_zone(name)


@pytest.mark.parametrize("name", ["localtime", "posixrules", "../etc/passwd", "/etc/localtime", "europe/paris",
                                  "", None, 10**30, "Europe/Pa\x00ris"])
def test_host_aliases_paths_and_other_values_are_not(name):
    assert not is_iana_zone(name)
