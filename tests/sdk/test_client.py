"""TroveClient and TroveAdminClient send exactly the contract's requests and parse replies."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from tests.sdk.wire_cases import (
    ADMIN_CASES,
    BASE,
    KEY,
    NS,
    RUNTIME_CASES,
    WS,
    Case,
    assert_request,
    call_args,
    respond,
)
from trove_sdk import TroveAdminClient, TroveClient


def _exchange(client: Any, case: Case) -> Any:
    seen: list[tuple[httpx.Request, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request, request.read()))
        return respond(case)

    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.route().mock(side_effect=handler)
        result = getattr(client, case.method_name)(*call_args(case), **case.kwargs)
    assert len(seen) == 1, f"{case.id}: expected one request, saw {len(seen)}"
    assert_request(case, *seen[0])
    return result


@pytest.mark.parametrize("case", RUNTIME_CASES, ids=lambda c: c.id)
def test_runtime_method_wire_shape(case: Case) -> None:
    with TroveClient(KEY, NS, base_url=BASE, max_retries=0) as client:
        result = _exchange(client, case)
    assert case.check(result), result


@pytest.mark.parametrize("case", ADMIN_CASES, ids=lambda c: c.id)
def test_admin_method_wire_shape(case: Case) -> None:
    with TroveAdminClient(KEY, WS, base_url=BASE, max_retries=0) as client:
        result = _exchange(client, case)
    assert case.check(result), result
