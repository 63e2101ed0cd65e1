"""The time zone names a request may store: those of the IANA tz database, never the host's own alias.

`zoneinfo.available_timezones()` lists every file under the host's zoneinfo directory, `localtime` included
where the system links it to /etc/localtime: the zone of whichever machine reads it, which another host (a
container without that link) cannot even open. A name stored once is read on every host, so it is refused.
"""
from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

HOST_ALIASES = frozenset({"localtime"})


@cache
def iana_zone_names() -> frozenset[str]:
    """The IANA zone names this host knows, without the host's own `localtime` alias."""
    return frozenset(available_timezones()) - HOST_ALIASES


def is_iana_zone(name: object) -> bool:
    """Whether `name` is one IANA zone name (a path, a host alias or anything else is not)."""
    return isinstance(name, str) and name in iana_zone_names()
