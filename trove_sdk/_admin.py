"""``TroveAdminClient`` and its async twin: keys, webhooks, deliveries, namespaces, events.

Management routes live under ``/v1/workspaces/{workspace_id}`` and never carry
``X-Namespace``. ``AdminOps`` holds the operations once; the twins only drive them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import httpx

from trove_sdk._base import Call, Op, parse_model
from trove_sdk._client import _segment
from trove_sdk._config import (
    DEFAULT_ADMIN_TIMEOUT,
    DEFAULT_BASE_URL,
    ENV_ADMIN_KEY,
    ENV_API_KEY,
    ENV_WORKSPACE_ID,
    PROBE_TIMEOUT,
    base_url_from_env,
    require_env,
)
from trove_sdk._feed import EventsOps, _since_param
from trove_sdk._feed_io import AsyncFeed, SyncFeed
from trove_sdk._models import (
    Delivery,
    DeliveryPage,
    Identity,
    KeyCreated,
    KeyMetadata,
    ReplayResult,
    SecretRotation,
    WebhookCreated,
    WebhookMetadata,
    WebhookTestResult,
)

__all__ = ["UNCHANGED", "AsyncTroveAdminClient", "TroveAdminClient"]


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()  # update_webhook: leave this field as it is


def _event_names(names: str | Iterable[str]) -> list[str]:
    """A list of event type names. A plain string is one name (or a comma-separated few),
    never the list of its characters."""
    items = [names] if isinstance(names, str) else list(names)
    return [n.strip() for item in items for n in item.split(",") if n.strip()]


class AdminOps(EventsOps):
    _workspace_id: str

    def _setup_admin(self, workspace_id: str) -> None:
        if not isinstance(workspace_id, str) or not workspace_id.startswith("ws-"):
            raise ValueError(f"workspace_id must look like 'ws-…', got {workspace_id!r}")
        self._workspace_id = workspace_id

    @property
    def workspace_id(self) -> str:
        return self._workspace_id

    def _workspace_op(self) -> Op[str]:
        yield from ()  # an operation that needs no request
        return self._workspace_id

    def _url(self, *parts: str) -> str:
        return "/".join([f"/v1/workspaces/{self._workspace_id}", *map(_segment, parts)])

    # --- keys ---------------------------------------------------------------------------

    def _create_key_op(self, name: str, namespace: str | None, admin: bool) -> Op[KeyCreated]:
        if admin and namespace is not None:
            raise ValueError("an admin key cannot be locked to a namespace")
        body = {"name": name, "namespace": namespace, "admin": admin}
        return parse_model((yield Call("POST", self._url("keys"), json=body)), KeyCreated.from_dict)

    def _list_keys_op(self) -> Op[list[KeyMetadata]]:
        response = yield Call("GET", self._url("keys"), idempotent=True)
        return parse_model(
            response, lambda d: [KeyMetadata.from_dict(k) for k in d.get("keys") or ()]
        )

    def _revoke_key_op(self, key_id: str) -> Op[None]:
        yield Call("DELETE", self._url("keys", key_id), idempotent=True)

    # --- webhooks -----------------------------------------------------------------------

    def _create_webhook_op(
        self,
        url: str,
        events: list[str] | None,
        namespace: str | None,
        description: str | None,
    ) -> Op[WebhookCreated]:
        body = {
            "url": url,
            "events": _event_names(events or ()) or ["*"],
            "namespace": namespace,
            "description": description,
        }
        return parse_model(
            (yield Call("POST", self._url("webhooks"), json=body)), WebhookCreated.from_dict
        )

    def _list_webhooks_op(self) -> Op[list[WebhookMetadata]]:
        response = yield Call("GET", self._url("webhooks"), idempotent=True)
        return parse_model(
            response, lambda d: [WebhookMetadata.from_dict(w) for w in d.get("webhooks") or ()]
        )

    def _update_webhook_op(self, webhook_id: str, changes: dict[str, Any]) -> Op[WebhookMetadata]:
        body = {
            k: (_event_names(v) if k == "events" else v)
            for k, v in changes.items()
            if v is not UNCHANGED
        }
        if not body:
            raise ValueError("update_webhook needs at least one field to change")
        call = Call("PATCH", self._url("webhooks", webhook_id), json=body, idempotent=True)
        return parse_model((yield call), WebhookMetadata.from_dict)

    def _delete_webhook_op(self, webhook_id: str) -> Op[None]:
        yield Call("DELETE", self._url("webhooks", webhook_id), idempotent=True)

    def _test_webhook_op(self, webhook_id: str) -> Op[WebhookTestResult]:
        call = Call("POST", self._url("webhooks", webhook_id, "test"))
        return parse_model((yield call), WebhookTestResult.from_dict)

    def _rotate_secret_op(self, webhook_id: str, grace_seconds: int) -> Op[SecretRotation]:
        call = Call(
            "POST",
            self._url("webhooks", webhook_id, "rotate-secret"),
            json={"grace_seconds": grace_seconds},
        )
        return parse_model((yield call), SecretRotation.from_dict)

    def _deliveries_op(
        self, webhook_id: str, limit: int | None, cursor: str | None
    ) -> Op[DeliveryPage]:
        params = {k: v for k, v in (("limit", limit), ("cursor", cursor)) if v is not None}
        call = Call(
            "GET",
            self._url("webhooks", webhook_id, "deliveries"),
            params={k: str(v) for k, v in params.items()},
            idempotent=True,
        )
        return parse_model((yield call), DeliveryPage.from_dict)

    def _retry_delivery_op(self, webhook_id: str, delivery_id: str) -> Op[Delivery]:
        call = Call("POST", self._url("webhooks", webhook_id, "deliveries", delivery_id, "retry"))
        return parse_model((yield call), Delivery.from_dict)

    def _replay_op(
        self, webhook_id: str, since: str | datetime, types: Iterable[str] | None
    ) -> Op[ReplayResult]:
        body: dict[str, Any] = {"since": _since_param(since)}
        if types:
            body["types"] = _event_names(types)
        call = Call("POST", self._url("webhooks", webhook_id, "replay"), json=body)
        return parse_model((yield call), ReplayResult.from_dict)

    # --- namespaces ---------------------------------------------------------------------

    def _delete_namespace_op(self, namespace: str) -> Op[int]:
        response = yield Call("DELETE", self._url("namespaces", namespace), idempotent=True)
        return parse_model(response, lambda d: int(d.get("files_deleted") or 0))


class TroveAdminClient(AdminOps, SyncFeed):
    """Workspace management with an admin key: keys, webhooks, deliveries, namespaces.

    Workspace keys may use the events methods (and get 403 on key or webhook management).

    Parameters:
        api_key: an admin key (``trove-sk-...`` with scope ``admin``).
        workspace_id: ``ws-...``; ``from_api_key`` looks it up for you.
        base_url: the API root; the hosted service by default.
        timeout: seconds per request (None: no limit).
        max_retries: retries on connection failures, and of safe requests on 408/429/502-504.
        http_client: an ``httpx.Client`` to reuse.
    """

    def __init__(
        self,
        api_key: str,
        workspace_id: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | None = DEFAULT_ADMIN_TIMEOUT,
        max_retries: int = 2,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._setup_admin(workspace_id)
        self._init_http(http_client)

    @classmethod
    def from_api_key(
        cls,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | None = DEFAULT_ADMIN_TIMEOUT,
        **kwargs: Any,
    ) -> TroveAdminClient:
        """Build a client for the key's own workspace (one ``GET /v1/me``)."""
        client = cls(api_key, "ws-pending", base_url=base_url, timeout=timeout, **kwargs)
        try:
            client._workspace_id = client._run(client._me_op(PROBE_TIMEOUT)).workspace_id
        except BaseException:
            client.close()
            raise
        return client

    @classmethod
    def from_env(cls, **kwargs: Any) -> TroveAdminClient:
        """A client from ``TROVE_ADMIN_KEY`` (else ``TROVE_API_KEY``), ``TROVE_BASE_URL`` and
        ``TROVE_WORKSPACE_ID`` (looked up with ``GET /v1/me`` when unset)."""
        key = require_env(ENV_ADMIN_KEY, ENV_API_KEY)
        kwargs.setdefault("base_url", base_url_from_env())
        workspace_id = os.environ.get(ENV_WORKSPACE_ID)
        if workspace_id:
            return cls(key, workspace_id, **kwargs)
        return cls.from_api_key(key, **kwargs)

    def me(self) -> Identity:
        return self._run(self._me_op())

    def create_key(
        self, name: str, *, namespace: str | None = None, admin: bool = False
    ) -> KeyCreated:
        """Mint a key (``api_key`` is shown once). ``namespace`` locks it to one namespace —
        the least privilege for an agent session."""
        return self._run(self._create_key_op(name, namespace, admin))

    def list_keys(self) -> list[KeyMetadata]:
        return self._run(self._list_keys_op())

    def revoke_key(self, key_id: str) -> None:
        """Revoke now: requests with the key get 401 from this moment."""
        return self._run(self._revoke_key_op(key_id))

    def create_webhook(
        self,
        url: str,
        *,
        events: list[str] | None = None,
        namespace: str | None = None,
        description: str | None = None,
    ) -> WebhookCreated:
        """Subscribe ``url`` to events (``["*"]``: all, including future types); the
        ``signing_secret`` is shown once."""
        return self._run(self._create_webhook_op(url, events, namespace, description))

    def list_webhooks(self) -> list[WebhookMetadata]:
        return self._run(self._list_webhooks_op())

    def update_webhook(
        self,
        webhook_id: str,
        *,
        url: str = UNCHANGED,
        events: list[str] = UNCHANGED,
        namespace: str | None = UNCHANGED,
        description: str | None = UNCHANGED,
        enabled: bool = UNCHANGED,
    ) -> WebhookMetadata:
        """Change only the fields given (``namespace=None`` clears the filter)."""
        changes = {
            "url": url,
            "events": events,
            "namespace": namespace,
            "description": description,
            "enabled": enabled,
        }
        return self._run(self._update_webhook_op(webhook_id, changes))

    def delete_webhook(self, webhook_id: str) -> None:
        return self._run(self._delete_webhook_op(webhook_id))

    def test_webhook(self, webhook_id: str) -> WebhookTestResult:
        """Send a ``webhook.test`` event now and report the receiver's answer."""
        return self._run(self._test_webhook_op(webhook_id))

    def rotate_webhook_secret(
        self, webhook_id: str, *, grace_seconds: int = 86400
    ) -> SecretRotation:
        """A new signing secret; deliveries carry both signatures until the grace ends."""
        return self._run(self._rotate_secret_op(webhook_id, grace_seconds))

    def list_deliveries(
        self, webhook_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> DeliveryPage:
        """Delivery attempts, newest first."""
        return self._run(self._deliveries_op(webhook_id, limit, cursor))

    def retry_delivery(self, webhook_id: str, delivery_id: str) -> Delivery:
        return self._run(self._retry_delivery_op(webhook_id, delivery_id))

    def replay_webhook(
        self, webhook_id: str, *, since: str | datetime, types: Iterable[str] | None = None
    ) -> ReplayResult:
        """Queue past events again (``since``: a timestamp or a duration such as ``1h``)."""
        return self._run(self._replay_op(webhook_id, since, types))

    def delete_namespace(self, namespace: str) -> int:
        """Delete a namespace and its files; returns how many files went."""
        return self._run(self._delete_namespace_op(namespace))


class AsyncTroveAdminClient(AdminOps, AsyncFeed):
    """Asynchronous twin of ``TroveAdminClient``.

    Parameters:
        api_key: an admin key (``trove-sk-...`` with scope ``admin``).
        workspace_id: ``ws-...``; ``from_api_key`` looks it up for you.
        base_url: the API root; the hosted service by default.
        timeout: seconds per request (None: no limit).
        max_retries: retries on connection failures, and of safe requests on 408/429/502-504.
        http_client: an ``httpx.AsyncClient`` to reuse.
    """

    def __init__(
        self,
        api_key: str,
        workspace_id: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | None = DEFAULT_ADMIN_TIMEOUT,
        max_retries: int = 2,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._setup_admin(workspace_id)
        self._init_http(http_client)

    @classmethod
    async def from_api_key(
        cls,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | None = DEFAULT_ADMIN_TIMEOUT,
        **kwargs: Any,
    ) -> AsyncTroveAdminClient:
        client = cls(api_key, "ws-pending", base_url=base_url, timeout=timeout, **kwargs)
        try:
            client._workspace_id = (await client._run(client._me_op(PROBE_TIMEOUT))).workspace_id
        except BaseException:
            await client.aclose()
            raise
        return client

    @classmethod
    async def from_env(cls, **kwargs: Any) -> AsyncTroveAdminClient:
        key = require_env(ENV_ADMIN_KEY, ENV_API_KEY)
        kwargs.setdefault("base_url", base_url_from_env())
        workspace_id = os.environ.get(ENV_WORKSPACE_ID)
        if workspace_id:
            return cls(key, workspace_id, **kwargs)
        return await cls.from_api_key(key, **kwargs)

    async def me(self) -> Identity:
        return await self._run(self._me_op())

    async def create_key(
        self, name: str, *, namespace: str | None = None, admin: bool = False
    ) -> KeyCreated:
        return await self._run(self._create_key_op(name, namespace, admin))

    async def list_keys(self) -> list[KeyMetadata]:
        return await self._run(self._list_keys_op())

    async def revoke_key(self, key_id: str) -> None:
        return await self._run(self._revoke_key_op(key_id))

    async def create_webhook(
        self,
        url: str,
        *,
        events: list[str] | None = None,
        namespace: str | None = None,
        description: str | None = None,
    ) -> WebhookCreated:
        return await self._run(self._create_webhook_op(url, events, namespace, description))

    async def list_webhooks(self) -> list[WebhookMetadata]:
        return await self._run(self._list_webhooks_op())

    async def update_webhook(
        self,
        webhook_id: str,
        *,
        url: str = UNCHANGED,
        events: list[str] = UNCHANGED,
        namespace: str | None = UNCHANGED,
        description: str | None = UNCHANGED,
        enabled: bool = UNCHANGED,
    ) -> WebhookMetadata:
        changes = {
            "url": url,
            "events": events,
            "namespace": namespace,
            "description": description,
            "enabled": enabled,
        }
        return await self._run(self._update_webhook_op(webhook_id, changes))

    async def delete_webhook(self, webhook_id: str) -> None:
        return await self._run(self._delete_webhook_op(webhook_id))

    async def test_webhook(self, webhook_id: str) -> WebhookTestResult:
        return await self._run(self._test_webhook_op(webhook_id))

    async def rotate_webhook_secret(
        self, webhook_id: str, *, grace_seconds: int = 86400
    ) -> SecretRotation:
        return await self._run(self._rotate_secret_op(webhook_id, grace_seconds))

    async def list_deliveries(
        self, webhook_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> DeliveryPage:
        return await self._run(self._deliveries_op(webhook_id, limit, cursor))

    async def retry_delivery(self, webhook_id: str, delivery_id: str) -> Delivery:
        return await self._run(self._retry_delivery_op(webhook_id, delivery_id))

    async def replay_webhook(
        self, webhook_id: str, *, since: str | datetime, types: Iterable[str] | None = None
    ) -> ReplayResult:
        return await self._run(self._replay_op(webhook_id, since, types))

    async def delete_namespace(self, namespace: str) -> int:
        return await self._run(self._delete_namespace_op(namespace))
