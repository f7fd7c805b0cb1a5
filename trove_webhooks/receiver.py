"""The framework-free core: ``(headers, body) → Outcome(status, body, headers)``.

Every adapter (the Starlette app, ASGI and WSGI middleware, FastAPI, Flask) only turns its
request into headers and bytes and the ``Outcome`` into its response, so the HTTP rules live
here once:

    precheck (before reading the body): 405 wrong method · 415 not JSON · 413 declared too big
    size cap → 413 · verify (trove_sdk) → 400 + reason · no handler for the type → 200 ignored
    queued mode: enqueue → 202 queued | 200 duplicate
    inline mode: claim → 200 duplicate | 409 + Retry-After (in flight elsewhere)
                 dispatch → failure: release → 500 | success: complete → 200 processed
    the store or inbox unreachable at any step → 503 + Retry-After, nothing recorded as done

Dedupe keys on the ``id`` inside the signed body, never on a header. The steps are written
once, as a generator that yields the I/O it needs (store, inbox, handlers); ``Receiver`` drives
it synchronously and ``AsyncReceiver`` asynchronously.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Generator, Mapping, Sequence
from datetime import datetime, timezone
from json.encoder import encode_basestring_ascii as _quote
from typing import TYPE_CHECKING, Any, NamedTuple

from trove_sdk import SIGNATURE_HEADER, WebhookSignatureError, WebhookVerifier
from trove_webhooks.context import DeliveryContext
from trove_webhooks.dispatch import DispatchResult, adispatch, dispatch
from trove_webhooks.errors import ConfigurationError, StoreUnavailableError
from trove_webhooks.metrics import Metrics
from trove_webhooks.routing import WebhookRouter
from trove_webhooks.stores import open_store, open_sync_store
from trove_webhooks.stores.base import (
    DEFAULT_LEASE_SECONDS,
    AsyncIdempotencyStore,
    Claim,
    ClaimStatus,
    IdempotencyStore,
)

if TYPE_CHECKING:
    from trove_webhooks._inbox_workers import LoopWorkers, ThreadWorkers

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "AsyncReceiver",
    "LowerHeaders",
    "Outcome",
    "Receiver",
    "Step",
    "secret_list",
    "size_refusal",
]

logger = logging.getLogger("trove_webhooks.receiver")

DEFAULT_MAX_BODY_BYTES = 1_048_576
UNAVAILABLE_RETRY_AFTER = "5"
_SIGNATURE_KEY = SIGNATURE_HEADER.lower()
_encode_json = json.JSONEncoder(separators=(",", ":")).encode
_EVENT_ANSWER_PREFIXES = {
    status: b'{"status":"%s","event_id":' % status.encode()
    for status in ("processed", "duplicate", "ignored", "queued", "in_flight", "failed")
}


class Outcome(NamedTuple):
    """The answer to one request, independent of any framework (a tuple: one per request,
    and a frozen dataclass's ``__init__`` cost more than the rest of building the answer)."""

    status: int
    body: Mapping[str, Any]
    headers: tuple[tuple[str, str], ...] = ()

    def body_bytes(self) -> bytes:
        body = self.body
        # Most answers are {"status": ..., "event_id": ...} with one of a few statuses: their
        # fixed part is encoded once, and only the event id is quoted per request.
        if type(body) is dict and len(body) == 2:
            (first, status), (second, event_id) = body.items()
            if first == "status" and second == "event_id" and type(event_id) is str:
                prefix = _EVENT_ANSWER_PREFIXES.get(status) if type(status) is str else None
                if prefix is not None:
                    return prefix + _quote(event_id).encode() + b"}"
        # Every other answer on the hot path holds strings only; quoting them directly costs
        # a third of what json.dumps does, for the same bytes. Anything else (a list, a
        # number) makes the quoting raise TypeError and takes the general encoder.
        if type(body) is dict:
            try:
                pairs = ",".join([_quote(k) + ":" + _quote(v) for k, v in body.items()])
            except TypeError:
                pass
            else:
                return ("{" + pairs + "}").encode()
        return _encode_json(body).encode()

    @property
    def media_type(self) -> str:
        return "application/json"


# Shared and never written to: a plain dict, which ``**`` unpacks faster than a read-only
# proxy.
_NO_KWARGS: Mapping[str, Any] = {}


class Step:
    """One piece of I/O the flow needs: ``target`` is store, inbox or dispatch."""

    __slots__ = ("args", "kwargs", "method", "target")

    def __init__(
        self,
        target: str,
        method: str,
        args: tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] = _NO_KWARGS,
    ) -> None:
        self.target = target
        self.method = method
        self.args = args
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"Step({self.target}.{self.method})"


class LowerHeaders(dict[str, str]):
    """Headers whose names are already lower case (ASGI's are): used as they are."""


def _lower(headers: Mapping[str, str] | Sequence[tuple[str, str]]) -> dict[str, str]:
    if type(headers) is LowerHeaders:
        return headers
    items = headers.items() if isinstance(headers, Mapping) else headers
    return LowerHeaders((k.lower(), v) for k, v in items)


def secret_list(secret: str | Sequence[str]) -> list[str]:
    """The secrets to verify with: a list as given, or a string split at commas (how
    ``TROVE_WEBHOOK_SECRET`` carries the new and the old one during a rotation)."""
    if isinstance(secret, str):
        secrets = [s.strip() for s in secret.split(",")]
    else:  # None (an unset variable) or anything else that is not a list fails below
        secrets = list(secret) if isinstance(secret, Sequence) else []
    if not secrets or not all(isinstance(s, str) and s for s in secrets):
        raise ConfigurationError(
            "a webhook secret is required (the signing_secret shown when the webhook was "
            "created); pass secret=... or set TROVE_WEBHOOK_SECRET"
        )
    return secrets


def size_refusal(limit: int) -> Outcome:
    """The ``413`` for a body larger than ``limit`` bytes."""
    return Outcome(
        413, {"status": "rejected", "reason": "size", "detail": f"body larger than {limit} bytes"}
    )


def _attempt(headers: Mapping[str, str]) -> int:
    raw = headers.get("x-trove-attempt", "")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 6 else 1


class _ReceiverBase:
    """Options, prechecks and the flow; the twins only drive it.

    Parameters:
        router: the handlers.
        secret: the signing secret, or a list of them during a rotation (any may verify).
        tolerance_seconds: how far the signed timestamp may be from now, either way.
        max_body_bytes: larger deliveries are refused with 413 without being read.
        lease_seconds: how long a claim protects a running handler from a concurrent retry;
            a crashed receiver's claim frees itself after this long.
        inbox: queued mode — verified deliveries are stored and answered 202, workers run
            the handlers later (see ``trove_webhooks.inbox``).
        workers: in queued mode, how many in-process workers run the handlers (0 for none:
            run ``trove webhooks worker`` processes instead). A lifespan that reaches the
            receiver starts and stops them; otherwise its first request starts them (see
            ``trove_webhooks._inbox_workers`` for the rule).
        inbox_options: keyword arguments for those workers' ``WorkerPool``
            (``max_attempts``, ``timeout_seconds``, ``backoff_seconds``, ...).
    """

    def __init__(
        self,
        router: WebhookRouter,
        *,
        secret: str | Sequence[str],
        tolerance_seconds: int = 300,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        metrics: Metrics | None = None,
        inbox: Any = None,
        workers: int = 1,
        inbox_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(router, WebhookRouter):
            raise ConfigurationError(f"router must be a WebhookRouter, not {type(router).__name__}")
        if max_body_bytes <= 0:
            raise ConfigurationError("max_body_bytes must be positive")
        if lease_seconds <= 0:
            raise ConfigurationError("lease_seconds must be positive")
        if not isinstance(workers, int) or workers < 0:
            raise ConfigurationError("workers must be 0 or more")
        self.router = router
        self.verifier = WebhookVerifier(secret_list(secret), tolerance_seconds=tolerance_seconds)
        self.tolerance_seconds = tolerance_seconds
        self.max_body_bytes = max_body_bytes
        self.lease_seconds = lease_seconds
        # The claim's keyword arguments, made once: every claim passes the same.
        self._claim_kwargs: Mapping[str, Any] = {"lease_seconds": lease_seconds}
        self.metrics = metrics or Metrics()
        self.inbox = inbox
        self.workers = workers if inbox is not None else 0
        self.inbox_options = dict(inbox_options or {})

    def _worker_settings(self) -> dict[str, Any]:
        return {"concurrency": self.workers, "metrics": self.metrics, "options": self.inbox_options}

    def _check_retention(self, retention_seconds: float) -> None:
        # A replay inside the window must still find the first delivery's record.
        if retention_seconds < self.tolerance_seconds:
            raise ConfigurationError(
                f"the store keeps events for {retention_seconds:g}s, less than the "
                f"{self.tolerance_seconds}s signature tolerance: a captured delivery could be "
                "replayed after its record expired"
            )

    # --- before the body is read ------------------------------------------------------------

    def precheck(
        self, method: str, headers: Mapping[str, str] | Sequence[tuple[str, str]]
    ) -> Outcome | None:
        """Refuse what is wrong from the request line and headers alone."""
        if method.upper() != "POST":
            self.metrics.rejected("method")
            return Outcome(
                405,
                {"status": "rejected", "reason": "method", "detail": "use POST"},
                (("Allow", "POST"),),
            )
        lowered = _lower(headers)
        media_type = lowered.get("content-type", "")
        if media_type != "application/json":  # as Trove sends it; else parse the parameters
            media_type = media_type.split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            self.metrics.rejected("content_type")
            shown = media_type or "none"
            return Outcome(
                415,
                {
                    "status": "rejected",
                    "reason": "content_type",
                    "detail": f"Content-Type must be application/json, got {shown}",
                },
            )
        declared = lowered.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return self.too_large()
        return None

    def too_large(self) -> Outcome:
        """The 413 an adapter sends when the body outgrew ``max_body_bytes`` while read."""
        self.metrics.rejected("size")
        return size_refusal(self.max_body_bytes)

    def _unavailable(
        self, exc: StoreUnavailableError, event: Any, handler_seconds: float | None = None
    ) -> Outcome:
        logger.warning("store unavailable for %s %s: %s", event.type, event.id, exc.message)
        self.metrics.delivery("unavailable", event.type, handler_seconds)
        return Outcome(
            503,
            {"status": "unavailable", "event_id": event.id, "detail": "storage unavailable"},
            (("Retry-After", UNAVAILABLE_RETRY_AFTER),),
        )

    # --- the flow ---------------------------------------------------------------------------

    def flow(
        self, headers: Mapping[str, str] | Sequence[tuple[str, str]], body: bytes
    ) -> Generator[Step, Any, Outcome]:
        """The receiver's decisions; yields each piece of I/O and receives its result."""
        if len(body) > self.max_body_bytes:
            return self.too_large()
        lowered = _lower(headers)
        try:
            verified = self.verifier.verify(body, lowered.get(_SIGNATURE_KEY))
        except WebhookSignatureError as exc:
            self.metrics.signature_failure(exc.reason)
            return Outcome(400, {"status": "rejected", "reason": exc.reason, "detail": exc.message})
        event = verified.event
        if not self.router.handlers_for(event.type):
            self.metrics.delivery("ignored", event.type)
            return Outcome(200, {"status": "ignored", "event_id": event.id})

        if self.inbox is not None:
            try:
                created = yield Step(
                    "inbox", "enqueue", (verified, body, lowered), {"received_at": time.time()}
                )
            except StoreUnavailableError as exc:
                return self._unavailable(exc, event)
            status = "queued" if created else "duplicate"
            self.metrics.delivery(status, event.type)
            return Outcome(202 if created else 200, {"status": status, "event_id": event.id})

        try:
            claim: Claim = yield Step("store", "claim", (event.id,), self._claim_kwargs)
        except StoreUnavailableError as exc:
            return self._unavailable(exc, event)
        if claim.status is ClaimStatus.DONE:
            self.metrics.delivery("duplicate", event.type)
            return Outcome(200, {"status": "duplicate", "event_id": event.id})
        if claim.status is ClaimStatus.IN_FLIGHT:
            self.metrics.delivery("in_flight", event.type)
            return Outcome(
                409,
                {
                    "status": "in_flight",
                    "event_id": event.id,
                    "detail": "this event is being processed by another request",
                },
                (("Retry-After", claim.retry_after_header),),
            )
        assert claim.token is not None

        context = None
        if self.router.wants_context(event.type):  # most handlers take only the event
            context = DeliveryContext(
                event_id=event.id,
                attempt=_attempt(lowered),
                received_at=datetime.now(timezone.utc),
                signed_at=verified.timestamp,
                secret_index=verified.secret_index,
                delivery_id=lowered.get("x-trove-delivery"),
                headers=lowered,
            )
        started = time.perf_counter()
        result: DispatchResult = yield Step("dispatch", "dispatch", (event, context))
        # Recorded with the answer below, in one metrics update.
        handler_seconds = time.perf_counter() - started

        if result.error is not None:
            try:
                yield Step("store", "release", (event.id, claim.token))
            except StoreUnavailableError as exc:
                # The lease will expire on its own; the sender's retry waits at most that long.
                logger.warning("could not release %s after a failure: %s", event.id, exc.message)
            self.metrics.delivery("failed", event.type, handler_seconds)
            return Outcome(
                500,
                {
                    "status": "failed",
                    "event_id": event.id,
                    "failed_handlers": list(result.error.handler_names),
                },
            )
        try:
            yield Step("store", "complete", (event.id, claim.token))
        except StoreUnavailableError as exc:
            # Handled but not recorded: answer 5xx so the sender retries, never 2xx.
            return self._unavailable(exc, event, handler_seconds)
        self.metrics.delivery("processed", event.type, handler_seconds)
        return Outcome(200, {"status": "processed", "event_id": event.id})


class Receiver(_ReceiverBase):
    """The sync driver: WSGI servers, Flask, scripts. Uses a sync store and sync inbox."""

    def __init__(
        self,
        router: WebhookRouter,
        *,
        secret: str | Sequence[str],
        store: str | IdempotencyStore | None = None,
        **options: Any,
    ) -> None:
        inbox = options.pop("inbox", None)
        if inbox is not None:
            from trove_webhooks.inbox import open_sync_inbox

            options["inbox"] = open_sync_inbox(inbox)
        super().__init__(router, secret=secret, **options)
        self.store: IdempotencyStore = open_sync_store(store)
        self._check_retention(self.store.retention_seconds)
        self._workers: ThreadWorkers | None = None
        if self.workers:
            from trove_webhooks._inbox_workers import ThreadWorkers

            self._workers = ThreadWorkers(self.inbox, router, **self._worker_settings())
        # Where the flow's enqueue goes: the workers start at the first one.
        self._queue: Any = self._workers or self.inbox

    def receive(
        self, headers: Mapping[str, str] | Sequence[tuple[str, str]], body: bytes
    ) -> Outcome:
        flow = self.flow(headers, body)
        try:
            step = next(flow)
            while True:
                try:
                    if step.target == "dispatch":
                        reply = dispatch(self.router, *step.args)
                    else:
                        target = self.store if step.target == "store" else self._queue
                        reply = getattr(target, step.method)(*step.args, **step.kwargs)
                except StoreUnavailableError as exc:
                    step = flow.throw(exc)  # the flow decides: its next step, or its answer
                else:
                    step = flow.send(reply)
        except StopIteration as stop:
            outcome: Outcome = stop.value
            return outcome

    def healthy(self) -> bool:
        try:
            (self.store if self.inbox is None else self.inbox).ping()
        except StoreUnavailableError:
            return False
        return True

    def start_workers(self) -> None:
        """Start the in-process inbox workers now rather than at the first request (a no-op
        when they run, in inline mode, or with ``workers=0``)."""
        if self._workers is not None:
            self._workers.start()

    def stop_workers(self) -> None:
        """Stop the workers after the events in hand are finished and recorded."""
        if self._workers is not None:
            self._workers.stop()

    def close(self) -> None:
        self.stop_workers()
        self.store.close()
        if self.inbox is not None:
            self.inbox.close()


class AsyncReceiver(_ReceiverBase):
    """The async driver: the Starlette app, ASGI middleware, FastAPI."""

    def __init__(
        self,
        router: WebhookRouter,
        *,
        secret: str | Sequence[str],
        store: str | AsyncIdempotencyStore | None = None,
        **options: Any,
    ) -> None:
        inbox = options.pop("inbox", None)
        if inbox is not None:
            from trove_webhooks.inbox import open_inbox

            options["inbox"] = open_inbox(inbox)
        super().__init__(router, secret=secret, **options)
        self.store: AsyncIdempotencyStore = open_store(store)
        self._check_retention(self.store.retention_seconds)
        self._workers: LoopWorkers | None = None
        if self.workers:
            from trove_webhooks._inbox_workers import LoopWorkers

            self._workers = LoopWorkers(self.inbox, router, **self._worker_settings())
        # Where the flow's enqueue goes: the workers start at the first one.
        self._queue: Any = self._workers or self.inbox

    async def receive(
        self, headers: Mapping[str, str] | Sequence[tuple[str, str]], body: bytes
    ) -> Outcome:
        flow = self.flow(headers, body)
        try:
            step = next(flow)
            while True:
                try:
                    if step.target == "dispatch":
                        reply = await adispatch(self.router, *step.args)
                    else:
                        target = self.store if step.target == "store" else self._queue
                        reply = await getattr(target, step.method)(*step.args, **step.kwargs)
                except StoreUnavailableError as exc:
                    step = flow.throw(exc)  # the flow decides: its next step, or its answer
                else:
                    step = flow.send(reply)
        except StopIteration as stop:
            outcome: Outcome = stop.value
            return outcome

    async def healthy(self) -> bool:
        try:
            await (self.store if self.inbox is None else self.inbox).ping()
        except StoreUnavailableError:
            return False
        return True

    async def start_workers(self) -> None:
        """Start the in-process inbox workers on the running loop now rather than at the first
        request — what a lifespan does (a no-op when they run, in inline mode, or with
        ``workers=0``)."""
        if self._workers is not None:
            await self._workers.start()

    async def stop_workers(self) -> None:
        """Stop the workers after the events in hand are finished and recorded."""
        if self._workers is not None:
            await self._workers.stop()

    async def aclose(self) -> None:
        await self.stop_workers()
        await self.store.aclose()
        if self.inbox is not None:
            await self.inbox.aclose()
