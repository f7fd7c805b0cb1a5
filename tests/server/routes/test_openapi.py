"""``/openapi.json`` (X9): it describes every route, and the server keeps its word —
schemathesis fuzzes every operation and finds no 5xx and no answer the document does not allow.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from trove_server.app import ROUTES
from trove_server.routing import Access, ApiRoute

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import checks  # noqa: E402 — after the importorskip above

CONFORMANCE = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def test_every_api_route_is_documented(http):
    document = http.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    documented = {
        (method.upper(), path) for path, ops in document["paths"].items() for method in ops
    }
    for route in ROUTES:
        if isinstance(route, ApiRoute):
            path = route.path.replace("{path:trove_path}", "{path}")
            for method in route.methods - {"HEAD"}:
                assert (method, path) in documented


def test_runtime_operations_document_the_namespace_header(http):
    document = http.get("/openapi.json").json()
    exec_op = document["paths"]["/v1/exec"]["post"]
    assert "X-Namespace" in [p["name"] for p in exec_op["parameters"]]
    assert exec_op["security"] == [{"bearer": []}]
    assert document["paths"]["/v1/auth/device/start"]["post"]["security"] == []


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A server of its own: fuzzing creates and deletes things at random."""
    from trove_server.testing import run_server

    with run_server(
        tmp_path_factory.mktemp("fuzzed"),
        exec_timeout=1.0,
        exec_timeout_max=2.0,
        allow_signup=True,
        retry_schedule=(),
        delivery_timeout=0.5,
    ) as server:
        yield server


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_server: Any) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_server.base_url}/openapi.json")


def _key_for(case: Any, server: Any) -> str:
    """The key an operation is meant for: admin routes get the admin key, others the
    workspace key (the wrong kind of key is the isolation matrix's job)."""
    for route in ROUTES:
        if not isinstance(route, ApiRoute) or case.method.upper() not in route.methods:
            continue
        if route.path.replace("{path:trove_path}", "{path}") == case.path:
            return server.admin_key if route.access is Access.ADMIN else server.api_key
    return server.api_key


FUZZED = sorted(
    (method, route.path.replace("{path:trove_path}", "{path}"))
    for route in ROUTES
    if isinstance(route, ApiRoute) and not route.path.endswith("/stream")
    for method in route.methods - {"HEAD"}
)


@pytest.mark.parametrize(("method", "path"), FUZZED, ids=[f"{m} {p}" for m, p in FUZZED])
def test_every_operation_conforms_and_never_fails_with_5xx(fuzz_schema, fuzz_server, method, path):
    operation = fuzz_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=10,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        if "workspace_id" in (case.path_parameters or {}):
            case.path_parameters["workspace_id"] = fuzz_server.workspace_id
        case.call_and_validate(
            headers={"Authorization": f"Bearer {_key_for(case, fuzz_server)}"},
            checks=CONFORMANCE,
            timeout=10,
        )

    fuzz()


def test_the_stream_conforms_too(fuzz_server):
    """Excluded from fuzzing (it never ends); its documented statuses are checked here."""
    url = f"{fuzz_server.base_url}/v1/workspaces/{fuzz_server.workspace_id}/webhooks/stream"
    with httpx.stream("GET", url, headers={"Authorization": f"Bearer {fuzz_server.api_key}"}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
    refused = httpx.get(url, headers={"Last-Event-ID": "x"})
    assert refused.status_code == 401
