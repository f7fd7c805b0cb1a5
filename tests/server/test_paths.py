"""Path safety: no path, link or special file lets a files route or a snapshot step outside the
namespace's ``workspace/`` — over real HTTP, with links planted by real commands."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.server.support import headers
from trove_sdk import TroveError
from trove_server.errors import Unprocessable
from trove_server.paths import _WRITE_BYTES, AtomicFile, parse, remove_tree, walk

# Paths that are never inside workspace/, each with the words its 422 must contain.
BAD_PATHS = [
    ("../etc/passwd", "'..'"),
    ("..", "'..'"),
    ("a/..", "'..'"),
    ("a/../../etc", "'..'"),
    ("./../x", "'..'"),
    ("workspace/../../x", "'..'"),
    ("notes/../../../root/.ssh/id_rsa", "'..'"),
    ("/etc/passwd", "absolute"),
    ("/workspace/x", "absolute"),
    ("//double", "absolute"),
    ("~", "'~'"),
    ("~/x", "'~'"),
    ("~root/.ssh", "'~'"),
    ("a\\b", "backslash"),
    ("..\\..\\windows", "backslash"),
    ("a\x00b", "NUL"),
    ("\x00", "NUL"),
    ("a\nb", "control character"),
    ("a\rb", "control character"),
    ("tab\there", "control character"),
    ("del\x7f", "control character"),
    ("x" * 256, "longer than 255 bytes"),
    ("dir/" + "é" * 128, "longer than 255 bytes"),
    ("a/" * 600, "bytes long"),
]
JSON_ROUTES = ["write", "delete", "content", "list"]


def _call(http: httpx.Client, key: str, namespace: str, route: str, path: str) -> httpx.Response:
    h = headers(key, namespace)
    if route == "write":
        return http.post("/write", json={"path": path, "content": "x"}, headers=h)
    if route == "delete":
        return http.post("/delete", json={"path": path}, headers=h)
    if route == "content":
        return http.get("/v1/files/content", params={"path": path}, headers=h)
    return http.get("/v1/files", params={"path": path}, headers=h)


@pytest.mark.parametrize("route", JSON_ROUTES)
@pytest.mark.parametrize(("path", "words"), BAD_PATHS, ids=[repr(p[:20]) for p, _ in BAD_PATHS])
def test_a_path_outside_workspace_is_refused_with_a_clear_422(
    http, trove_server, namespace, route, path, words
):
    response = _call(http, trove_server.api_key, namespace, route, path)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]


# The same through the URL of PUT/GET /files/{path}: percent-encoding carries what a client
# library would otherwise normalise away.
URL_PATHS = [
    ("%2E%2E/secret", "'..'"),
    ("a/%2E%2E/%2E%2E/x", "'..'"),
    ("%2E%2E", "'..'"),
    ("a%5Cb", "backslash"),
    ("a%00b", "NUL"),
    ("~/x", "'~'"),
    ("line%0Abreak", "control character"),
    ("x" * 256, "longer than 255 bytes"),
]


@pytest.mark.parametrize("method", ["PUT", "GET"])
@pytest.mark.parametrize(("raw", "words"), URL_PATHS, ids=[p[:16] for p, _ in URL_PATHS])
def test_a_url_path_outside_workspace_is_refused(trove_server, namespace, method, raw, words):
    url = f"{trove_server.base_url}/files/{raw}"
    with httpx.Client() as http:
        request = http.build_request(
            method,
            url,
            content=b"x" if method == "PUT" else None,
            headers=headers(trove_server.api_key, namespace),
        )
        request.url = httpx.URL(url)  # keep the raw, un-normalised path
        response = http.send(request)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]


def test_parse_collapses_empty_and_dot_segments():
    assert parse("a//b/./c/").parts == ("a", "b", "c")


def test_parse_strips_workspace_only_in_the_listing_spelling():
    assert parse("workspace/x", listing=True).parts == ("x",)
    assert parse("workspace/x").parts == ("workspace", "x")
    assert parse("workspace", listing=True).parts == ()


def test_parse_refuses_a_non_string():
    with pytest.raises(Unprocessable):
        parse(["a"])


# --- walking and removing trees a command made ----------------------------------------------


def _deep_tree(top: Path, depth: int) -> None:
    """``top/d/d/.../d/f``, built relative to open directories (the path is too long to name)."""
    top.mkdir()
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(os.open("f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    os.close(fd)


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_remove_tree_deletes_a_tree_deeper_than_the_recursion_limit(tmp_path):
    _deep_tree(tmp_path / "top", 1500)
    parent = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert remove_tree(parent, "top") == 1
    finally:
        os.close(parent)
        # pytest's own clean-up of tmp_path recurses and would fail on what is left.
        subprocess.run(["rm", "-rf", str(tmp_path / "top")], check=True)
    assert not (tmp_path / "top").exists()


def test_walk_holds_descriptors_per_level_not_per_directory(tmp_path):
    for i in range(400):
        (tmp_path / "wide" / f"d{i}").mkdir(parents=True)
    top = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        before = _open_descriptors()
        peak = max(_open_descriptors() for _ in walk(top))
    finally:
        os.close(top)
    assert peak - before < 20


def test_walk_visits_children_before_leaving_their_directory(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_text("x")
    top = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        order = [(leaving, entry.rel) for leaving, entry in walk(top, sort=True)]
    finally:
        os.close(top)
    assert order == [(False, "a"), (False, "a/b"), (False, "a/b/f"), (True, "a/b"), (True, "a")]


def test_walk_never_enters_a_link(tmp_path):
    (tmp_path / "top").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("x")
    (tmp_path / "top" / "link").symlink_to(tmp_path / "outside")
    top = os.open(tmp_path / "top", os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert [entry.rel for _, entry in walk(top)] == ["link"]
    finally:
        os.close(top)


# --- links and special files planted by commands ---------------------------------------------


@pytest.fixture
def linked(client):
    """A namespace where a command planted links pointing out of workspace/."""
    result = client.exec_detailed(
        "ln -s / workspace/root && ln -s /etc/passwd workspace/pw && "
        "ln -s ../../ workspace/up && mkdir workspace/real && "
        "echo inside > workspace/real/a.txt && ln -s real/a.txt workspace/alias"
    )
    assert result.exit_code == 0, result.stderr
    return client


@pytest.mark.parametrize(
    "path", ["workspace/root/etc/passwd", "workspace/pw", "workspace/alias", "workspace/up/x"]
)
def test_reading_through_a_link_is_409(linked, path):
    with pytest.raises(TroveError) as info:
        linked.read_file(path)
    assert info.value.status_code == 409
    assert "symbolic link" in info.value.message


@pytest.mark.parametrize("path", ["workspace/root/etc/passwd", "workspace/pw"])
def test_downloading_through_a_link_is_409(linked, path):
    with pytest.raises(TroveError) as info:
        linked.read_bytes(path)
    assert info.value.status_code == 409


@pytest.mark.parametrize("path", ["workspace/root", "workspace/root/etc", "workspace/up"])
def test_listing_through_a_link_is_409(linked, path):
    with pytest.raises(TroveError) as info:
        linked.list_dir(path)
    assert info.value.status_code == 409


def test_writing_through_a_link_is_409_and_writes_nothing_outside(linked, tmp_path):
    marker = f"trove-escape-{os.getpid()}-{tmp_path.name}"
    with pytest.raises(TroveError) as info:
        linked.write(f"root/tmp/{marker}", "escaped?")
    assert info.value.status_code == 409
    assert not (Path("/tmp") / marker).exists()


def test_uploading_through_a_link_is_409(linked):
    with pytest.raises(TroveError) as info:
        linked.upload("up/planted.bin", b"x")
    assert info.value.status_code == 409


def test_deleting_through_a_link_is_409_and_deletes_nothing_outside(linked):
    with pytest.raises(TroveError) as info:
        linked.delete("root/etc/hostname")
    assert info.value.status_code == 409
    assert Path("/etc/hostname").exists()


def test_deleting_a_link_removes_the_link_not_its_target(linked):
    linked.delete("root")
    linked.delete("pw")
    assert Path("/etc/passwd").exists()
    names = [e.name for e in linked.list_dir()]
    assert "root" not in names and "pw" not in names


def test_listing_shows_links_as_plain_entries(linked):
    entries = {e.name: e for e in linked.list_dir()}
    assert entries["root"].is_dir is False
    assert entries["real"].is_dir is True


def test_recursive_listing_does_not_descend_into_links(linked):
    paths = [e.path for e in linked.list_dir(recursive=True)]
    assert "workspace/real/a.txt" in paths
    assert not any(p.startswith("workspace/root/") for p in paths)


def test_a_workspace_replaced_by_a_link_is_never_followed(client):
    client.write("before.txt", "x")
    result = client.exec_detailed("rm -rf workspace && ln -s / workspace")
    assert result.exit_code == 0, result.stderr
    for call in (
        lambda: client.list_dir(),
        lambda: client.read_file("workspace/etc/passwd"),
        lambda: client.write("tmp/planted", "x"),
    ):
        with pytest.raises(TroveError) as info:
            call()
        assert info.value.status_code == 409
    client.exec_detailed("rm workspace")
    assert client.write("again.txt", "fine").path == "workspace/again.txt"


def test_a_fifo_cannot_hang_a_download(client):
    assert client.exec_detailed("mkfifo workspace/pipe").exit_code == 0
    with pytest.raises(TroveError) as info:
        client.read_bytes("pipe")
    assert info.value.status_code == 409
    with pytest.raises(TroveError):
        client.read_file("workspace/pipe")


def test_a_snapshot_keeps_inside_links_and_drops_outside_ones(linked):
    snap = linked.create_snapshot("links")
    linked.exec_detailed("rm -rf workspace/*")
    linked.restore_snapshot(snap.snapshot_id)
    listing = linked.exec_detailed("cd workspace && ls -A && readlink alias").stdout.split()
    assert "alias" in listing and "real/a.txt" in listing
    assert "root" not in listing and "pw" not in listing and "up" not in listing


# --- names a command can make but a client cannot send --------------------------------------

# Created by the shell: bytes that are not UTF-8, a newline, a backslash, a leading '~'.
ODD_NAMES = "$'bad\\xffname' $'new\\nline' 'back\\slash' '~tilde'"


def test_a_name_that_is_not_utf8_does_not_break_exec_or_listing(client, namespace):
    made = client.exec_detailed("touch workspace/$'bad\\xffname'")
    assert made.exit_code == 0
    assert [e.name for e in client.list_dir()] == ["bad\ufffdname"]
    assert [e.path for e in client.list_dir(recursive=True)] == ["workspace/bad\ufffdname"]
    (event,) = client.list_events(namespace=namespace, types="file.written").events
    assert event.data.path == "workspace/bad\ufffdname"


def test_a_snapshot_restores_every_name_a_command_made(client):
    assert client.exec_detailed(f"cd workspace && touch {ODD_NAMES}").exit_code == 0
    snap = client.create_snapshot("odd names")
    client.exec_detailed("rm -rf workspace/* workspace/.[!.]*")
    assert client.restore_snapshot(snap.snapshot_id) == 4
    check = client.exec_detailed(f"cd workspace && ls -d -- {ODD_NAMES} >/dev/null && echo all")
    assert check.stdout == "all\n", check.stderr


@pytest.mark.parametrize(
    "sizes",
    [
        [0, 1, 300_000, 65_536, 65_536, 65_536, 65_536, 65_536, 0, 1_000_000, 7],
        [1] * 3000,  # more pieces than one writev takes
        [4 << 20],
    ],
)
def test_an_atomic_file_writes_every_byte_in_bounded_calls(tmp_path, monkeypatch, sizes):
    # Each write(2) stays at most _WRITE_BYTES (bigger ones get 2 MiB page-cache folios, slow
    # on a VM); partial writes are carried on from where they stopped.
    calls: list[tuple[int, int]] = []

    def short_writev(fd, buffers):
        calls.append((len(buffers), sum(len(b) for b in buffers)))
        return os.write(fd, b"".join(buffers)[:100_000])

    chunks = [os.urandom(n) for n in sizes]
    atomic = AtomicFile(tmp_path)
    try:
        monkeypatch.setattr(os, "writev", short_writev)
        atomic.write_all(chunks)
        monkeypatch.undo()
        assert atomic.size == sum(sizes)
        assert atomic.fd is not None
        assert os.pread(atomic.fd, sum(sizes) + 1, 0) == b"".join(chunks)
    finally:
        atomic.abort()
    assert all(0 < size <= _WRITE_BYTES and count <= 1024 for count, size in calls)
