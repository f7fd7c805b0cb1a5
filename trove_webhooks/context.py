"""``DeliveryContext``: what a handler may want to know about the delivery besides the event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["DeliveryContext"]


@dataclass(frozen=True)
class DeliveryContext:
    """Passed as a handler's second argument when it takes one.

    ``attempt`` is the sender's attempt number (``X-Trove-Attempt``) inline, or the inbox's own
    attempt count in queued mode — with ``event_id`` it is what makes a side effect idempotent.
    ``secret_index`` says which configured secret verified the delivery (0 = the first), which
    tells when senders have moved to a rotated secret.
    """

    event_id: str
    attempt: int
    received_at: datetime
    signed_at: int
    secret_index: int
    delivery_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    queued: bool = False
