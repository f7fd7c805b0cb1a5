"""The typed results of the tools, and the text the model reads next to them.

Each tool returns a ``CallToolResult`` carrying two views of one result: ``content``, text
written for a model (the ``[exit N]`` block of CONTRACT §6.1 for exec, the file itself for a
read), and ``structured_content``, one of the models below, validated by the ``mcp`` SDK
against the output schema it publishes in ``tools/list``.
"""

from __future__ import annotations

from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import BaseModel, Field

from trove_sdk import ExecResult, FileInfo, WorkspaceBootstrap

__all__ = [
    "BootstrapOutput",
    "DeleteOutput",
    "EntryOutput",
    "ExecOutput",
    "ListOutput",
    "ReadOutput",
    "WriteOutput",
    "exec_text",
    "tool_result",
]


class ExecOutput(BaseModel):
    """A finished command."""

    exit_code: int = Field(description="The shell's exit status (124 when it timed out).")
    stdout: str
    stderr: str
    duration_ms: int = Field(description="Wall time measured by the server.")
    timed_out: bool = Field(description="True when the 30 s wall clock killed the command.")
    stdout_truncated: bool = False
    stderr_truncated: bool = False

    @classmethod
    def of(cls, result: ExecResult) -> ExecOutput:
        return cls(
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            duration_ms=result.duration_ms,
            timed_out=result.timed_out,
            stdout_truncated=result.stdout_truncated,
            stderr_truncated=result.stderr_truncated,
        )


class ReadOutput(BaseModel):
    """A text file (its first 1 MiB)."""

    path: str
    content: str
    size_bytes: int = Field(description="The whole file's size.")
    truncated: bool = Field(description="True when the file is over 1 MiB and cut.")
    modified_at: str


class WriteOutput(BaseModel):
    """A file written (text or bytes)."""

    path: str
    size_bytes: int


class DeleteOutput(BaseModel):
    """A file or directory tree removed."""

    deleted: str


class EntryOutput(BaseModel):
    """One listing entry."""

    name: str
    path: str
    is_dir: bool
    size_bytes: int | None
    modified_at: str

    @classmethod
    def of(cls, info: FileInfo) -> EntryOutput:
        return cls(
            name=info.name,
            path=info.path,
            is_dir=info.is_dir,
            size_bytes=info.size_bytes,
            modified_at=info.modified_at,
        )


class ListOutput(BaseModel):
    """A directory listing."""

    path: str
    entries: list[EntryOutput]
    truncated: bool = Field(description="True when the 1000-entry / 20-level cap was hit.")


class BootstrapOutput(BaseModel):
    """The orientation summary of the namespace."""

    namespace: str
    file_count: int
    last_modified_at: str | None
    recent_files: list[EntryOutput]
    init_script: str | None
    agent_memory: str | None = Field(description="workspace/.trove/agent.md, if any.")
    truncated: bool

    @classmethod
    def of(cls, boot: WorkspaceBootstrap) -> BootstrapOutput:
        return cls(
            namespace=boot.namespace,
            file_count=boot.file_count,
            last_modified_at=boot.last_modified_at,
            recent_files=[EntryOutput.of(f) for f in boot.recent_files],
            init_script=boot.init_script,
            agent_memory=boot.agent_memory,
            truncated=boot.truncated,
        )


def tool_result(output: BaseModel, text: str, *notes: str) -> CallToolResult:
    """``text`` (and any ``notes``, each its own block) for the model; ``output`` as data."""
    blocks: list[ContentBlock] = [TextContent(type="text", text=t) for t in (text, *notes) if t]
    return CallToolResult(content=blocks, structured_content=output.model_dump(mode="json"))


def exec_text(out: ExecOutput) -> str:
    """``[exit N]`` then stdout, then ``--- stderr ---`` and stderr; each part ends with a
    newline. Limits that cut the run short are said after, so the model never mistakes a
    partial output for the whole."""
    parts = [f"[exit {out.exit_code}]\n" if out.stdout or out.stderr else f"[exit {out.exit_code}]"]
    if out.stdout:
        parts.append(_line_end(out.stdout))
    if out.stderr:
        parts.append("--- stderr ---\n" + _line_end(out.stderr))
    notes = []
    if out.timed_out:
        notes.append("timed out: killed at the 30 s wall clock")
    if out.stdout_truncated:
        notes.append("stdout truncated by the server (write large output to a file instead)")
    if out.stderr_truncated:
        notes.append("stderr truncated by the server")
    if notes:
        parts.append("".join(f"--- {note} ---\n" for note in notes))
    return "".join(parts)


def _line_end(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"
