"""GET requests of the gateway itself to the services behind it, on behalf of one caller (the aggregated contact
read): the identity headers of a proxied request, the answer read whole."""
from __future__ import annotations

from urllib.parse import quote

import requests

from gateway.adapters.upstream import UpstreamClient


class UpstreamReader:
    """Reads for one caller: the services scope each to the account in `identity` (X-Account-Id...), as they
    scope a proxied request."""

    def __init__(self, client: UpstreamClient, base_urls: dict[str, str], identity: dict[str, str]) -> None:
        self._client = client
        self._base_urls = base_urls
        self._headers = {**identity, "Accept": "application/json"}

    def get(self, service: str, path: str, params: list[tuple[str, str]],
            timeout_s: float | None = None) -> requests.Response:
        """The service's answer, its body read (DependencyUnavailable as UpstreamClient.call raises it)."""
        url = f"{self._base_urls[service]}{quote(path, safe='/')}"
        return self._client.call(service, "GET", url, self._headers, timeout_s=timeout_s, params=params)
