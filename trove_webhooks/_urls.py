"""Store and inbox URLs: masking passwords, and taking our own options out of the query."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["mask_url", "safe_identifier", "split_options"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` — the only way a URL reaches a message."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def split_options(url: str, names: Iterable[str]) -> tuple[str, dict[str, str]]:
    """Remove the query options in ``names`` from ``url``; return the rest and those options.

    Drivers (redis-py, psycopg) reject query keys they don't know, so ours must go first.
    """
    wanted = set(names)
    # Split by hand: a urlsplit/urlunsplit round trip rewrites sqlite:////abs paths.
    base, _, query = url.partition("?")
    ours: dict[str, str] = {}
    rest: list[tuple[str, str]] = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in wanted:
            ours[key] = value
        else:
            rest.append((key, value))
    return (base + "?" + urlencode(rest) if rest else base), ours


def safe_identifier(value: str, what: str) -> str:
    """A SQL identifier (optionally ``schema.name``) we can put into statement text."""
    pieces = value.split(".")
    if len(pieces) > 2 or not all(_IDENTIFIER.fullmatch(p) for p in pieces):
        raise ValueError(
            f"{what} {value!r} is not a plain SQL identifier "
            "(letters, digits and _, optionally schema.name)"
        )
    return value
