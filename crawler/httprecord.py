"""The HTTP exchange behind a fetched page, as a WARC request/response pair needs it and as a court or a
historian asks for it: what was asked (method, URL, the headers Scrapy sent), what came back (protocol,
status, headers as received) and from which address."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy.http import Response


def _pairs(headers: object) -> list[list[str]]:
    """Scrapy's headers as [name, value] pairs, every value of a repeated header kept, in order."""
    return [[name.decode("latin-1"), value.decode("latin-1")]
            for name, values in headers.items() for value in values]  # type: ignore[attr-defined]


def exchange(response: Response) -> dict:
    request = response.request
    return {
        "request": {"method": request.method, "url": request.url, "headers": _pairs(request.headers)},
        "protocol": response.protocol or "HTTP/1.1",
        "status": response.status,
        "headers": _pairs(response.headers),
        "ip": str(response.ip_address) if response.ip_address else None,
        "at": datetime.now(UTC).isoformat(timespec="microseconds"),
    }
