"""Files routes (CONTRACT §2.4) through our SDK and through raw HTTP."""

from __future__ import annotations

import os

import pytest

from tests.server.support import headers
from trove_sdk import TroveError, TroveNotFoundError


def _events(client, namespace, types):
    return [e for e in client.list_events(namespace=namespace, types=types, limit=200).events]


# --- write / read ---------------------------------------------------------------------------


def test_write_creates_parents_and_reports_the_workspace_path(client):
    result = client.write("notes/deep/plan.md", "# plan\n")
    assert result.path == "workspace/notes/deep/plan.md"
    assert result.size_bytes == 7
    assert client.read_text("workspace/notes/deep/plan.md") == "# plan\n"


def test_write_replaces_an_existing_file(client):
    client.write("a.txt", "first version, longer")
    client.write("a.txt", "second")
    assert client.read_text("a.txt") == "second"


def test_write_counts_utf8_bytes(client):
    assert client.write("u.txt", "héllo ✓").size_bytes == len("héllo ✓".encode())


def test_write_emits_file_written_with_source_write(client, namespace):
    client.write("ev.txt", "x")
    (event,) = _events(client, namespace, "file.written")
    assert event.data.path == "workspace/ev.txt"
    assert event.data.source == "write"
    assert event.data.size_bytes == 1


async def test_concurrent_first_writes_into_new_directories_all_succeed(trove_server):
    """Twenty writes at once into a namespace's first, not-yet-existing folders: each request
    creates workspace/ and batch/ if missing, and losing that race must not be an error."""
    import asyncio
    import uuid

    from trove_sdk import AsyncTroveClient

    for _ in range(30):
        namespace = f"race-{uuid.uuid4().hex[:8]}"
        async with AsyncTroveClient(
            trove_server.api_key, namespace, base_url=trove_server.base_url, max_retries=0
        ) as trove:
            results = await asyncio.gather(
                *(trove.write(f"workspace/batch/part-{i}.txt", "x") for i in range(20)),
                return_exceptions=True,
            )
        assert [r for r in results if isinstance(r, BaseException)] == []


def test_write_into_a_file_used_as_a_directory_is_409(client):
    client.write("plain", "I am a file")
    with pytest.raises(TroveError) as info:
        client.write("plain/child.txt", "x")
    assert info.value.status_code == 409
    assert "not a directory" in info.value.message


def test_write_over_a_directory_is_409(client):
    client.write("dir/inside.txt", "x")
    with pytest.raises(TroveError) as info:
        client.write("dir", "x")
    assert info.value.status_code == 409
    assert client.read_text("dir/inside.txt") == "x"


def test_write_with_malformed_json_is_422(http, trove_server, namespace):
    response = http.post(
        "/write",
        content=b'{"path": "a.txt", "content": ',
        headers={**headers(trove_server.api_key, namespace), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"path": "a.txt"}, "content is required"),
        ({"content": "x"}, "path is required"),
        ({"path": 3, "content": "x"}, "path must be a string"),
        ({"path": "a.txt", "content": ["x"]}, "content must be a string"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_write_with_a_bad_body_is_422_naming_the_field(
    http, trove_server, namespace, body, complaint
):
    response = http.post("/write", json=body, headers=headers(trove_server.api_key, namespace))
    assert response.status_code == 422
    assert complaint in response.json()["detail"]


def test_write_with_an_unpaired_surrogate_is_422(http, trove_server, namespace):
    response = http.post(
        "/write",
        content=b'{"path": "s.txt", "content": "\\ud800"}',
        headers={**headers(trove_server.api_key, namespace), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "surrogate" in response.json()["detail"]


# --- upload / download ----------------------------------------------------------------------


def test_upload_and_download_round_trip_binary_bytes(client):
    data = bytes(range(256)) * 100
    result = client.upload("bin/data.bin", data)
    assert result.path == "workspace/bin/data.bin"
    assert result.size_bytes == len(data)
    full = client.read_bytes_full("workspace/bin/data.bin")
    assert full.content == data
    assert full.size_bytes == len(data)
    assert full.truncated is False


def test_upload_emits_file_written_with_source_upload(client, namespace):
    client.upload("up.bin", b"\x00\x01")
    (event,) = _events(client, namespace, "file.written")
    assert (event.data.path, event.data.source, event.data.size_bytes) == (
        "workspace/up.bin",
        "upload",
        2,
    )


def test_upload_accepts_a_body_without_content_type(http, trove_server, namespace):
    response = http.put(
        "/files/raw.bin", content=b"abc", headers=headers(trove_server.api_key, namespace)
    )
    assert "content-type" not in response.request.headers
    assert response.status_code == 200
    assert response.json() == {"path": "workspace/raw.bin", "size_bytes": 3}


def test_upload_of_a_name_with_spaces_and_unicode(client):
    client.upload("dir with space/naïve ✓.txt", b"ok")
    assert client.read_bytes("workspace/dir with space/naïve ✓.txt") == b"ok"


def test_download_sends_size_header(http, trove_server, client, namespace):
    client.upload("sized.bin", b"12345")
    response = http.get("/files/sized.bin", headers=headers(trove_server.api_key, namespace))
    assert response.headers["x-trove-size"] == "5"
    assert "x-trove-truncated" not in response.headers
    assert response.content == b"12345"


def test_download_of_a_missing_file_is_404_with_the_contract_detail(http, trove_server, namespace):
    response = http.get("/files/missing.png", headers=headers(trove_server.api_key, namespace))
    assert response.status_code == 404
    assert response.json() == {"detail": "Path not found: workspace/missing.png"}


def test_download_over_the_cap_is_truncated_with_headers(capped):
    capped.upload("big.bin", b"x" * 5000)
    full = capped.read_bytes_full("big.bin")
    assert full.truncated is True
    assert full.size_bytes == 5000
    assert len(full.content) == 4096


def test_download_of_a_directory_is_409(client):
    client.write("d/x.txt", "x")
    with pytest.raises(TroveError) as info:
        client.read_bytes("d")
    assert info.value.status_code == 409


def test_upload_over_the_cap_is_413_and_leaves_nothing(capped, capped_server):
    with pytest.raises(TroveError) as info:
        capped.upload("too-big.bin", b"y" * (64 * 1024 + 1))
    assert info.value.status_code == 413
    with pytest.raises(TroveNotFoundError):
        capped.read_bytes("too-big.bin")
    assert os.listdir(capped_server.data_dir / "tmp") == []


def test_chunked_upload_over_the_cap_is_413_and_leaves_nothing(capped_server, namespace):
    import httpx

    def body():
        for _ in range(20):
            yield b"z" * 8192  # 160 KiB in total, no Content-Length

    with httpx.Client(base_url=capped_server.base_url) as raw:
        response = raw.put(
            "/files/stream.bin", content=body(), headers=headers(capped_server.api_key, namespace)
        )
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    with capped_server.client(namespace) as c, pytest.raises(TroveNotFoundError):
        c.read_bytes("stream.bin")
    assert os.listdir(capped_server.data_dir / "tmp") == []


def test_upload_over_the_cap_does_not_replace_the_existing_file(capped):
    capped.upload("keep.bin", b"original")
    with pytest.raises(TroveError):
        capped.upload("keep.bin", b"n" * (64 * 1024 + 1))
    assert capped.read_bytes("keep.bin") == b"original"


# --- preview (/v1/files/content) -------------------------------------------------------------


def test_content_of_a_text_file(client):
    client.write("t.md", "hello")
    info = client.read_file("workspace/t.md")
    assert (info.path, info.size_bytes, info.encoding, info.content, info.truncated) == (
        "workspace/t.md",
        5,
        "utf-8",
        "hello",
        False,
    )
    assert info.modified_at.endswith("Z")


def test_content_accepts_the_path_without_workspace_prefix(client):
    client.write("plain.txt", "p")
    assert client.read_file("plain.txt").content == "p"


def test_content_of_a_binary_file_is_null_with_encoding_binary(client):
    client.upload("img.png", b"\x89PNG\r\n\x1a\n\xff\xfe")
    info = client.read_file("workspace/img.png")
    assert info.encoding == "binary"
    assert info.content is None
    with pytest.raises(TroveError) as raised:
        client.read_text("workspace/img.png")
    assert raised.value.status_code == 415
    assert client.read("workspace/img.png") == b"\x89PNG\r\n\x1a\n\xff\xfe"


def test_content_over_the_preview_cap_is_truncated(capped):
    capped.write("long.txt", "a" * 100)
    info = capped.read_file("long.txt")
    assert info.truncated is True
    assert info.content == "a" * 64
    assert info.size_bytes == 100


def test_a_multibyte_character_cut_by_the_preview_cap_still_counts_as_text(capped):
    capped.write("cut.txt", "a" * 63 + "é" + "b")  # é's two bytes straddle byte 64
    info = capped.read_file("cut.txt")
    assert info.encoding == "utf-8"
    assert info.content == "a" * 63
    assert info.truncated is True


def test_content_without_path_is_422(http, trove_server, namespace):
    response = http.get("/v1/files/content", headers=headers(trove_server.api_key, namespace))
    assert response.status_code == 422


def test_content_of_a_missing_file_is_404(client):
    with pytest.raises(TroveNotFoundError):
        client.read_file("workspace/nope.txt")


# --- listing ---------------------------------------------------------------------------------


def test_listing_puts_directories_first_then_files_alphabetically(client):
    for path in ("b.txt", "a.txt", "zdir/x", "adir/y"):
        client.write(path, "x")
    names = [(e.name, e.is_dir) for e in client.list_dir()]
    assert names == [("adir", True), ("zdir", True), ("a.txt", False), ("b.txt", False)]


def test_listing_entries_have_sizes_for_files_and_null_for_directories(client):
    client.write("d/f.txt", "abc")
    top = client.list_dir()
    assert top[0].size_bytes is None and top[0].path == "workspace/d"
    inner = client.list_dir("workspace/d")
    assert inner[0].size_bytes == 3 and inner[0].path == "workspace/d/f.txt"


def test_recursive_listing_is_depth_first_with_intermediate_directories(client):
    for path in ("a/b/c.txt", "a/z.txt", "top.txt"):
        client.write(path, "x")
    paths = [e.path for e in client.list_dir(recursive=True)]
    assert paths == [
        "workspace/a",
        "workspace/a/b",
        "workspace/a/b/c.txt",
        "workspace/a/z.txt",
        "workspace/top.txt",
    ]


def test_recursive_listing_stops_at_the_entry_cap(capped):
    for i in range(12):
        capped.write(f"f{i:02}.txt", "x")
    listing = capped.list_dir(recursive=True)
    assert len(listing) == 10
    assert listing.truncated is True


def test_recursive_listing_stops_at_the_depth_cap(capped):
    capped.write("1/2/3/4/deep.txt", "x")
    listing = capped.list_dir(recursive=True)
    assert [e.path for e in listing] == ["workspace/1", "workspace/1/2", "workspace/1/2/3"]
    assert listing.truncated is True


def test_listing_of_a_new_namespace_is_empty(client):
    listing = client.list_dir()
    assert list(listing) == []
    assert listing.truncated is False


def test_listing_of_a_missing_directory_is_404(client):
    client.write("x.txt", "x")
    with pytest.raises(TroveNotFoundError):
        client.list_dir("workspace/none")


def test_listing_of_a_file_is_409(client):
    client.write("x.txt", "x")
    with pytest.raises(TroveError) as info:
        client.list_dir("workspace/x.txt")
    assert info.value.status_code == 409


def test_listing_with_a_garbage_recursive_flag_is_422(http, trove_server, namespace):
    response = http.get(
        "/v1/files",
        params={"path": "workspace/", "recursive": "maybe"},
        headers=headers(trove_server.api_key, namespace),
    )
    assert response.status_code == 422


# --- delete ----------------------------------------------------------------------------------


def test_delete_a_file(client, namespace):
    client.write("gone.txt", "x")
    assert client.delete("workspace/gone.txt") == "workspace/gone.txt"
    with pytest.raises(TroveNotFoundError):
        client.read_file("gone.txt")
    (event,) = _events(client, namespace, "file.deleted")
    assert (event.data.path, event.data.source) == ("workspace/gone.txt", "delete")


def test_delete_a_directory_recursively(client):
    client.write("tree/a/b.txt", "x")
    client.write("tree/c.txt", "x")
    client.delete("tree")
    assert list(client.list_dir()) == []


def test_delete_of_a_missing_path_is_404(client):
    with pytest.raises(TroveNotFoundError):
        client.delete("nothing-here.txt")


def test_delete_of_the_workspace_root_is_422(http, trove_server, namespace):
    response = http.post(
        "/delete", json={"path": ""}, headers=headers(trove_server.api_key, namespace)
    )
    assert response.status_code == 422


def test_clear_init_reports_whether_there_was_one(client):
    assert client.clear_init() is False
    client.set_init("cd workspace\n")
    assert client.get_init() == "cd workspace\n"
    assert client.clear_init() is True
    assert client.get_init() is None


def test_bootstrap_sees_files_init_and_agent_notes(client):
    client.write("report.md", "r")
    client.set_init("export A=1\n")
    client.write(".trove/agent.md", "last time: wrote report")
    boot = client.bootstrap()
    assert boot.file_count == 1
    assert boot.init_script == "export A=1\n"
    assert boot.agent_memory == "last time: wrote report"


async def test_the_async_client_reads_what_it_wrote(async_client):
    await async_client.write("async.txt", "twin")
    assert await async_client.read_text("workspace/async.txt") == "twin"
    assert [e.name for e in await async_client.list_dir()] == ["async.txt"]


def test_an_unlocked_key_without_x_namespace_is_400(http, trove_server):
    response = http.get("/v1/files", headers=headers(trove_server.api_key))
    assert response.status_code == 400
    assert "X-Namespace header is required" in response.json()["detail"]


@pytest.mark.parametrize("bad", ["../up", "-leading", "has space", "x" * 65, "ns/slash", "%C3%A9"])
def test_an_invalid_x_namespace_is_422(http, trove_server, bad):
    response = http.get(
        "/v1/files", headers={"Authorization": f"Bearer {trove_server.api_key}", "X-Namespace": bad}
    )
    assert response.status_code == 422
    assert "not a valid namespace name" in response.json()["detail"]


def test_an_admin_key_cannot_touch_files(http, trove_server, namespace):
    response = http.get("/v1/files", headers=headers(trove_server.admin_key, namespace))
    assert response.status_code == 403
    assert response.json() == {"detail": "Admin keys cannot access the filesystem."}


def test_deleting_a_tree_deeper_than_the_recursion_limit(client):
    deep = "$(printf 'd/%.0s' $(seq 1100))"
    assert (
        client.exec_detailed(f"mkdir -p workspace/{deep} && touch workspace/{deep}f").exit_code == 0
    )
    client.delete("d")
    assert client.list_dir() == []
