"""The tools: one ``async def`` each, whose docstring is the description the model reads.

Arguments carry their own descriptions (``Annotated[..., Field(...)]``); the ``mcp`` SDK checks
them against the schema before a tool runs. Each tool returns text for the model and a typed
result (``trove_mcp.outputs``), and raises ``ToolError`` (via ``tool_errors``) on failure.
The behaviour hints every tool declares are in one table, ``TOOLS``, so they are reviewed
together.

``ls`` and ``rm`` are tools here (``trove_list``, ``trove_delete``) because the hints let a
client ask before deleting; everything else (snapshots, ``grep``, ``jq`` ...) goes through
``trove_exec``: a short tool list is easier for a model to use well.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from trove_mcp.errors import ToolError, tool_errors
from trove_mcp.outputs import (
    BootstrapOutput,
    DeleteOutput,
    EntryOutput,
    ExecOutput,
    ListOutput,
    ReadOutput,
    WriteOutput,
    exec_text,
    tool_result,
)
from trove_mcp.paths import workspace_path
from trove_mcp.workspace import WorkspaceContext

__all__ = ["TOOLS", "ToolSpec"]

ONE_MIB = 1_048_576

PathArg = Annotated[
    str,
    Field(
        description="A path inside the workspace, e.g. workspace/notes.md (notes.md also works)."
    ),
]


async def trove_exec(
    command: Annotated[
        str,
        Field(
            description="Shell command, run by bash at the namespace root, e.g. "
            "`ls -la workspace/` or `python3 workspace/job.py`.",
            min_length=1,
        ),
    ],
    ctx: WorkspaceContext,
    stdin: Annotated[
        str | None,
        Field(description="Optional UTF-8 text piped to the command's stdin (at most 1 MiB)."),
    ] = None,
) -> Annotated[CallToolResult, ExecOutput]:
    """Run a shell command in the persistent Trove workspace and get its exit code and output.

    Each call starts a fresh bash shell at the namespace root, where workspace/ is the
    directory that persists across calls and sessions; cd, exported variables and
    background processes do not carry over (chain steps with && in one call, or put
    setup in workspace/.trove/init.sh, which runs before every command). Tools such as
    jq, awk, sed, grep, python3, curl, tar, base64, sha256sum are available.
    Limits: 30 s wall clock per call (the command is killed after that); stdin at most
    1 MiB; very large output is truncated, so redirect it to a file. A non-zero exit code
    is a normal result, not an error. Output: `[exit N]`, stdout, then `--- stderr ---`.
    """
    with tool_errors():
        result = await ctx.request_context.lifespan_context.client.exec_detailed(
            command, stdin=stdin
        )
    out = ExecOutput.of(result)
    return tool_result(out, exec_text(out))


async def trove_read(path: PathArg, ctx: WorkspaceContext) -> Annotated[CallToolResult, ReadOutput]:
    """Read a UTF-8 text file from the workspace (the first 1 MiB).

    Binary files (images, PDFs, archives) are refused: inspect them with trove_exec
    (`file`, `pdftotext f.pdf -`, `base64 f.png`, `xxd f.bin | head`). For a file over 1 MiB
    the text is cut at 1 MiB and `truncated` is true; read the rest with trove_exec
    (`tail -c`, `sed -n`).
    """
    with tool_errors():
        target = workspace_path(path)
        info = await ctx.request_context.lifespan_context.client.read_file(target)
    if info.encoding != "utf-8" or info.content is None:
        raise ToolError(
            f"{info.path} is a binary file ({info.size_bytes} bytes), not UTF-8 text. Use "
            f"trove_exec instead, e.g. `base64 {info.path}` for its bytes, `file {info.path}` "
            "for its type, or `pdftotext` / `xxd` to look inside."
        )
    out = ReadOutput(
        path=info.path,
        content=info.content,
        size_bytes=info.size_bytes,
        truncated=info.truncated,
        modified_at=info.modified_at,
    )
    note = ""
    if not info.content:
        # With no text block at all, hosts show "no output" and the model cannot tell an
        # empty file from a failed read.
        note = f"[{info.path} is empty]"
    elif info.truncated:
        note = (
            f"[truncated: showing the first 1 MiB of {info.size_bytes} bytes; read further "
            f"with trove_exec, e.g. `tail -c +{ONE_MIB + 1} {info.path} | head -c {ONE_MIB}`]"
        )
    return tool_result(out, info.content, note)


async def trove_write(
    path: PathArg,
    content: Annotated[str, Field(description="The whole new file content, as UTF-8 text.")],
    ctx: WorkspaceContext,
) -> Annotated[CallToolResult, WriteOutput]:
    """Write a UTF-8 text file in the workspace, replacing it if it exists.

    Parent directories are created. Use trove_put_base64 for binary data. Writing
    workspace/.trove/agent.md leaves a hand-off note for the next session; writing
    workspace/.trove/init.sh sets a prelude sourced before every trove_exec command.
    """
    with tool_errors():
        target = workspace_path(path)
        written = await ctx.request_context.lifespan_context.client.write(target, content)
    out = WriteOutput(path=written.path, size_bytes=written.size_bytes)
    return tool_result(out, f"wrote {out.path} ({out.size_bytes} bytes)")


async def trove_put_base64(
    path: PathArg,
    content_b64: Annotated[
        str,
        Field(
            description="The file's bytes in standard base64 (whitespace and line breaks are "
            "fine; no data: URL prefix)."
        ),
    ],
    ctx: WorkspaceContext,
) -> Annotated[CallToolResult, WriteOutput]:
    """Write a binary file (image, PDF, archive, audio) in the workspace from base64.

    Replaces the file if it exists; parent directories are created. One call, no shell
    quoting: prefer it to piping base64 through trove_exec. Limit 100 MiB decoded.
    """
    with tool_errors():
        target = workspace_path(path)
        data = decode_base64(content_b64)
        written = await ctx.request_context.lifespan_context.client.upload(target, data)
    out = WriteOutput(path=written.path, size_bytes=written.size_bytes)
    return tool_result(out, f"wrote {out.path} ({out.size_bytes} bytes)")


async def trove_list(
    ctx: WorkspaceContext,
    path: Annotated[
        str, Field(description="The directory to list (default: the whole workspace/).")
    ] = "workspace/",
    recursive: Annotated[
        bool, Field(description="List everything below it too (up to 1000 entries).")
    ] = False,
) -> Annotated[CallToolResult, ListOutput]:
    """List a directory of the workspace: directories first, then files, with sizes.

    With recursive=true the listing walks the whole tree depth-first (capped at 1000
    entries and 20 levels; `truncated` says when the cap was hit).
    """
    with tool_errors():
        target = workspace_path(path, allow_root=True)
        listing = await ctx.request_context.lifespan_context.client.list_dir(
            target, recursive=recursive
        )
    out = ListOutput(
        path=target,
        entries=[EntryOutput.of(entry) for entry in listing],
        truncated=listing.truncated,
    )
    lines = [f"{e.path}/" if e.is_dir else f"{e.path}  ({e.size_bytes} bytes)" for e in out.entries]
    text = "\n".join(lines) if lines else f"{target} is empty"
    note = "[truncated: the listing hit its 1000-entry cap]" if out.truncated else ""
    return tool_result(out, text, note)


async def trove_delete(
    path: PathArg, ctx: WorkspaceContext
) -> Annotated[CallToolResult, DeleteOutput]:
    """Delete a file, or a directory with everything in it, from the workspace.

    There is no undo. Deleting workspace/ itself is refused; name what to remove.
    """
    with tool_errors():
        target = workspace_path(path)
        deleted = await ctx.request_context.lifespan_context.client.delete(target)
    out = DeleteOutput(deleted=deleted)
    return tool_result(out, f"deleted {deleted}")


async def trove_bootstrap(ctx: WorkspaceContext) -> Annotated[CallToolResult, BootstrapOutput]:
    """Orient yourself at the start of a session: call this on your first turn.

    Returns a <workspace> block with the file count, the 10 most recently changed files,
    the init.sh prelude that runs before every command, and the hand-off note the previous
    session left in workspace/.trove/agent.md. One call instead of exploring with ls and
    cat. Before ending a substantial session, leave your own note with trove_write to
    workspace/.trove/agent.md: what you did, what you learned, what is next.
    """
    with tool_errors():
        boot = await ctx.request_context.lifespan_context.client.bootstrap()
    return tool_result(BootstrapOutput.of(boot), boot.as_system_prompt_block())


_BASE64_NOISE = re.compile(rb"[\s]+")


def decode_base64(text: str) -> bytes:
    """Standard (or URL-safe) base64 with any whitespace; anything else is refused with the
    reason, never silently dropped — a corrupted upload is worse than an error."""
    raw = _BASE64_NOISE.sub(b"", text.encode("ascii", "replace"))
    if raw.startswith(b"data:"):
        raise ValueError("invalid base64: got a data: URL; send only the part after 'base64,'")
    if b"-" in raw or b"_" in raw:
        raw = raw.replace(b"-", b"+").replace(b"_", b"/")
    raw += b"=" * (-len(raw) % 4)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"invalid base64: {exc}") from None


@dataclass(frozen=True)
class ToolSpec:
    """A tool and the behaviour hints clients show users (and use to ask before acting)."""

    fn: Callable[..., Any]
    title: str
    annotations: ToolAnnotations


# read_only: changes nothing. destructive: may overwrite or remove data. idempotent: calling
# again with the same arguments has no further effect. open_world: reaches outside the
# workspace (exec may run curl).
TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        trove_exec,
        "Run a shell command",
        ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
        ),
    ),
    ToolSpec(
        trove_read,
        "Read a text file",
        ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
    ),
    ToolSpec(
        trove_write,
        "Write a text file",
        ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
        ),
    ),
    ToolSpec(
        trove_put_base64,
        "Write a binary file",
        ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
        ),
    ),
    ToolSpec(
        trove_list,
        "List files",
        ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
    ),
    ToolSpec(
        trove_delete,
        "Delete a file or directory",
        ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
        ),
    ),
    ToolSpec(
        trove_bootstrap,
        "Orient in the workspace",
        ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
    ),
)
