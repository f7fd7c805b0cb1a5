"""Files in the namespace: ``ls``, ``cat``, ``put``, ``get``, ``write``, ``rm``.

``put`` and ``get`` stream: a 100 MiB file never sits in memory, and a bar shows on stderr for
transfers over 1 MiB when stderr is a terminal. ``get`` writes to a temporary file renamed into
place when complete, so an interrupted download never leaves half a file under the real name.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from trove_cli.errors import CLIError
from trove_cli.humanize import format_local, format_size
from trove_cli.options import json_option, namespace_option, yes_option

if TYPE_CHECKING:
    from trove_cli.app import App

__all__ = [
    "cat_command",
    "get_command",
    "ls_command",
    "put_command",
    "remote_target",
    "rm_command",
    "write_command",
]

PUT_TIMEOUT = 120.0
GET_TIMEOUT = 180.0


def relative(remote: str) -> str:
    """``workspace/a/b`` → ``a/b``; a path naming no file is refused."""
    from trove_sdk._paths import relative_path

    try:
        return relative_path(remote)
    except ValueError:
        raise CLIError(f"remote path {remote!r} does not name a file inside workspace/") from None


def remote_target(local: Path, remote: str | None) -> str:
    """Where ``put`` stores ``local``: REMOTE, its basename by default, and a trailing ``/``
    keeps the basename inside that directory."""
    if remote is None:
        return local.name
    if remote.endswith("/"):
        return remote.rstrip("/") + "/" + local.name
    return remote


def _make_directories(directory: Path) -> list[Path]:
    """``mkdir -p directory``; returns the directories it created, outermost first."""
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    directory.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


@click.command("ls")
@click.argument("path", default="workspace/")
@namespace_option()
@click.option("-l", "--long", "long_format", is_flag=True, help="Show size and modified time.")
@click.option("-R", "--recursive", is_flag=True, help="List the whole tree (1000 entries max).")
@json_option("Print the server's listing as JSON.")
@click.pass_obj
def ls_command(
    app: App, path: str, namespace: str | None, long_format: bool, recursive: bool, as_json: bool
) -> None:
    """List a directory (default: workspace/)."""
    out = app.output
    with app.client(namespace) as client:
        listing = client.list_dir(path, recursive=recursive)
    if as_json:
        out.json(
            {
                "entries": [
                    {
                        "name": e.name,
                        "path": e.path,
                        "is_dir": e.is_dir,
                        "size_bytes": e.size_bytes,
                        "modified_at": e.modified_at,
                    }
                    for e in listing
                ],
                "truncated": listing.truncated,
            }
        )
        return
    if not listing:
        out.out.line("(empty)", fg="bright_black")
        return
    for entry in listing:
        name = (entry.path.removeprefix("workspace/") if recursive else entry.name) + (
            "/" if entry.is_dir else ""
        )
        if long_format:
            size = "-" if entry.is_dir else format_size(entry.size_bytes)
            out.out.line(f"{size:>10}  {format_local(entry.modified_at)}  {name}")
        else:
            out.out.line(name)
    if listing.truncated:
        out.note("…(truncated)")


@click.command("cat")
@click.argument("path")
@namespace_option()
@click.pass_obj
def cat_command(app: App, path: str, namespace: str | None) -> None:
    """Print a text file (up to 1 MiB; use `trove get` for more or for binary files)."""
    out = app.output
    with app.client(namespace) as client:
        info = client.read_file(path)
    if info.encoding == "binary" or info.content is None:
        raise CLIError(
            f"{info.path} is binary ({format_size(info.size_bytes)}); "
            f"use `trove get {path} --stdout`"
        )
    out.out.write(info.content)
    if info.truncated:
        out.warn(
            f"\n…(truncated at the 1 MiB preview cap; full size {format_size(info.size_bytes)}; "
            f"`trove get {path}` fetches it all)"
        )


@click.command("put")
@click.argument(
    "local", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
)
@click.argument("remote", required=False)
@namespace_option()
@json_option("Print the stored path and size as JSON.")
@click.pass_obj
def put_command(
    app: App, local: Path, remote: str | None, namespace: str | None, as_json: bool
) -> None:
    """Upload LOCAL (any bytes, up to 100 MiB) to REMOTE.

    \b
    trove put report.pdf                    → workspace/report.pdf
    trove put report.pdf workspace/docs/    → workspace/docs/report.pdf
    trove put report.pdf workspace/r2.pdf   → workspace/r2.pdf
    """
    from trove_cli.progress import ProgressReader, transfer_progress
    from trove_sdk._config import MAX_UPLOAD_BYTES

    target = relative(remote_target(local, remote))
    size = local.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise CLIError(
            f"{local} is {format_size(size)}; the server accepts at most "
            f"{format_size(MAX_UPLOAD_BYTES)} per file"
        )
    out = app.output
    with (
        app.client(namespace, timeout=PUT_TIMEOUT) as client,
        local.open("rb") as handle,
        transfer_progress(out.err, f"put {local.name}") as progress,
    ):
        source: Any = handle if progress is None else ProgressReader(handle, progress, size)
        stored = client.upload(target, source)
    if as_json:
        out.json({"path": stored.path, "size_bytes": stored.size_bytes})
    else:
        out.result(f"uploaded {stored.path}  ({format_size(stored.size_bytes)})")


@click.command("get")
@click.argument("remote")
# A str, not a Path: Path("reports/") drops the trailing slash that says "into this directory".
@click.argument("local", required=False, type=click.Path())
@namespace_option()
@click.option("-f", "--force", is_flag=True, help="Overwrite LOCAL if it exists.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Write the bytes to stdout.")
@click.pass_obj
def get_command(
    app: App,
    remote: str,
    local: str | None,
    namespace: str | None,
    force: bool,
    to_stdout: bool,
) -> None:
    """Download REMOTE (any bytes, up to 100 MiB) to LOCAL (default: its basename here).

    \b
    trove get workspace/report.pdf
    trove get workspace/report.pdf reports/      → reports/report.pdf
    trove get workspace/img.png --stdout > img.png
    """
    from trove_cli.progress import transfer_progress

    if to_stdout and local is not None:
        raise CLIError("pass --stdout or a LOCAL path, not both")
    rel = relative(remote)
    out = app.output
    basename = rel.rstrip("/").rsplit("/", 1)[-1] or "download"
    target: Path | None = None
    created: list[Path] = []
    if not to_stdout:
        target = Path(local) if local else Path(basename)
        if target.is_dir() or (local or "").endswith(("/", os.sep)):
            target = target / basename
        if target.exists() and not force:
            raise CLIError(f"{target} already exists; pass --force to overwrite it")
        created = _make_directories(target.parent)
    try:
        with (
            app.client(namespace, timeout=GET_TIMEOUT) as client,
            transfer_progress(out.err, f"get {basename}") as progress,
        ):
            dest: Any = target if target is not None else out.out.binary
            result = client.download(rel, dest, progress=progress)
    except BaseException:
        # A failed download leaves the disk as it found it: no file, no new directories.
        for directory in reversed(created):
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    if target is not None:
        out.result(f"downloaded {remote} → {target}  ({format_size(result.bytes_written)})")
    if result.truncated:
        full = f" of {format_size(result.size_bytes)}" if result.size_bytes else ""
        out.warn(
            f"warning: the server truncated the file at {format_size(result.bytes_written)}{full}"
        )


@click.command("write")
@click.argument("path")
@click.argument("content", required=False)
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the content from stdin.")
@namespace_option()
@json_option("Print the stored path and size as JSON.")
@click.pass_obj
def write_command(
    app: App,
    path: str,
    content: str | None,
    from_stdin: bool,
    namespace: str | None,
    as_json: bool,
) -> None:
    """Write a UTF-8 text file (use `trove put` for binary).

    \b
    trove write workspace/notes.md "# plan"
    echo "from a pipe" | trove write workspace/piped.txt --stdin
    """
    if from_stdin:
        if content is not None:
            raise CLIError("pass CONTENT or --stdin, not both")
        from trove_cli import stdin

        try:
            content = stdin.read_text()
        except CLIError as exc:
            raise CLIError(f"{exc.message}; use `trove put` for binary data") from None
    if content is None:
        raise CLIError("missing CONTENT (give it as an argument or use --stdin)")
    rel = relative(path)
    with app.client(namespace) as client:
        stored = client.write(rel, content)
    if as_json:
        app.output.json({"path": stored.path, "size_bytes": stored.size_bytes})
    else:
        app.output.result(f"wrote {stored.path}  ({format_size(stored.size_bytes)})")


@click.command("rm")
@click.argument("paths", nargs=-1, required=True)
@namespace_option()
@yes_option("Do not ask before deleting several paths.")
@json_option("Print what was deleted as JSON.")
@click.pass_obj
def rm_command(
    app: App, paths: tuple[str, ...], namespace: str | None, yes: bool, as_json: bool
) -> None:
    """Delete files or directories (recursively); a missing path is only a warning."""
    from trove_sdk import TroveNotFoundError

    rels = [relative(p) for p in paths]
    if len(paths) > 1 and not yes:
        click.confirm(f"delete {len(paths)} paths?", abort=True, err=True)
    out = app.output
    report: list[dict[str, Any]] = []
    with app.client(namespace) as client:
        for original, rel in zip(paths, rels, strict=True):
            try:
                deleted = client.delete(rel)
            except TroveNotFoundError:
                out.warn(f"not found: {original}")
                report.append({"path": original, "deleted": None})
                continue
            report.append({"path": original, "deleted": deleted})
            if not as_json:
                out.result(f"deleted {deleted}", fg="red")
    if as_json:
        out.json(report)
