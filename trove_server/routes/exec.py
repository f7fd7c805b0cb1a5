"""Exec (CONTRACT §2.3): ``POST /v1/exec`` (JSON) and the legacy ``POST /exec`` (text, D6).

Both run the command the same way (``run_command``) and differ only in the answer's shape.
After the command the changed files are announced (D8), then ``exec.completed`` (D7) — also
for a command that timed out, which then answers 408.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.responses import PlainTextResponse, Response

from trove_server.changes import FileState, diff, scan
from trove_server.errors import Unavailable, Unprocessable, error_response
from trove_server.eventlog import NewEvent
from trove_server.execution import CommandResult, decode_output
from trove_server.paths import WORKSPACE, shown
from trove_server.routing import Access, Ctx, Operation, api, json_response
from trove_server.schemas import obj
from trove_server.validation import read_object

__all__ = ["routes", "run_command"]

_EVENT_STDOUT_BYTES = 1024
_EVENT_COMMAND_CHARS = 4096

EXEC_REQUEST = obj(
    ["command"],
    command={
        "type": "string",
        "minLength": 1,
        "pattern": r"\S",
        "x-pattern-message": "command must not be blank",
    },
    stdin={"type": ["string", "null"]},
    timeout_s={"type": ["number", "null"], "exclusiveMinimum": 0},
)
EXEC_RESULT = obj(
    ["exit_code", "stdout", "stderr", "duration_ms"],
    exit_code={"type": "integer"},
    stdout={"type": "string"},
    stderr={"type": "string"},
    duration_ms={"type": "integer"},
    timed_out={"type": "boolean"},
    stdout_truncated={"type": "boolean"},
    stderr_truncated={"type": "boolean"},
)


@dataclass(frozen=True)
class Ran:
    result: CommandResult
    timeout: float


async def run_command(ctx: Ctx) -> Ran:
    settings = ctx.server.settings
    body = await read_object(ctx.request, EXEC_REQUEST, settings.max_json_bytes)
    command: str = body["command"]
    if "\x00" in command:
        # No shell can receive it (exec arguments are C strings); found by fuzzing.
        raise Unprocessable("command contains a NUL byte")
    stdin_text = body.get("stdin")
    stdin = None if stdin_text is None else stdin_text.encode("utf-8")
    if stdin is not None and len(stdin) > settings.exec_stdin_cap:
        raise Unprocessable(
            f"stdin is {len(stdin)} bytes; the limit is {settings.exec_stdin_cap} "
            "(upload the data and redirect from the file instead)"
        )
    timeout = settings.exec_timeout
    if body.get("timeout_s") is not None:
        timeout = float(body["timeout_s"])
        if timeout > settings.exec_timeout_max:
            raise Unprocessable(
                f"timeout_s must be at most {settings.exec_timeout_max:g} on this server"
            )
    if ctx.server.stopping.is_set():
        raise Unavailable("the server is shutting down")
    ns = ctx.server.namespace(ctx.workspace_id, ctx.namespace)
    await asyncio.to_thread(ns.ensure, strict=False)
    before = await asyncio.to_thread(scan, ns, settings.exec_scan_limit)
    result = await ctx.server.runner.run(
        ns.root, ctx.namespace, command, stdin=stdin, timeout=timeout
    )
    after = await asyncio.to_thread(scan, ns, settings.exec_scan_limit)
    _announce(ctx, command, stdin, result, before, after)
    if result.killed == "shutdown":
        raise Unavailable("the server is shutting down; the command was stopped")
    return Ran(result, timeout)


def _announce(
    ctx: Ctx,
    command: str,
    stdin: bytes | None,
    result: CommandResult,
    before: FileState | None,
    after: FileState | None,
) -> None:
    events: list[NewEvent] = []
    completed = {
        "command": command[:_EVENT_COMMAND_CHARS],
        "exit_code": result.exit_code,
        "duration_ms": result.duration_ms,
        "stdin_bytes": len(stdin or b""),
        "stdout": decode_output(result.stdout[:_EVENT_STDOUT_BYTES], truncated=True),
        "timed_out": result.timed_out,
    }
    if before is None or after is None:
        completed["files_scan"] = "skipped"
    else:
        changes = diff(before, after)
        for rel, size in changes.written:
            events.append(
                NewEvent(
                    "file.written",
                    {"path": shown(f"{WORKSPACE}/{rel}"), "size_bytes": size, "source": "exec"},
                    ctx.namespace,
                )
            )
        for rel in changes.deleted:
            events.append(
                NewEvent(
                    "file.deleted",
                    {"path": shown(f"{WORKSPACE}/{rel}"), "source": "exec"},
                    ctx.namespace,
                )
            )
    events.append(NewEvent("exec.completed", completed, ctx.namespace))
    ctx.server.events.emit_many(ctx.workspace_id, events)


def _timed_out(ran: Ran) -> Response:
    return error_response(408, f"Command timed out after {ran.timeout:g}s.")


async def exec_json(ctx: Ctx) -> Response:
    ran = await run_command(ctx)
    result = ran.result
    if result.timed_out:
        return _timed_out(ran)
    return json_response(
        {
            "exit_code": result.exit_code,
            "stdout": decode_output(result.stdout, result.stdout_truncated),
            "stderr": decode_output(result.stderr, result.stderr_truncated),
            "duration_ms": result.duration_ms,
            "timed_out": False,
            "stdout_truncated": result.stdout_truncated,
            "stderr_truncated": result.stderr_truncated,
        }
    )


async def exec_text(ctx: Ctx) -> Response:
    ran = await run_command(ctx)
    result = ran.result
    if result.timed_out:
        return _timed_out(ran)
    stdout = decode_output(result.stdout, result.stdout_truncated)
    if result.exit_code == 0:
        return PlainTextResponse(stdout or "(no output)")
    stderr = decode_output(result.stderr, result.stderr_truncated)
    return PlainTextResponse(f"[exit {result.exit_code}]\n{stderr}{stdout}")


_ERRORS = (408, 503)
routes = [
    api(
        "POST",
        "/v1/exec",
        exec_json,
        access=Access.RUNTIME,
        operation=Operation(
            "Run a shell command in the namespace (fresh shell, cwd = namespace root)",
            "exec",
            body=EXEC_REQUEST,
            response=EXEC_RESULT,
            errors=_ERRORS,
        ),
    ),
    api(
        "POST",
        "/exec",
        exec_text,
        access=Access.RUNTIME,
        operation=Operation(
            "Run a shell command; legacy text answer (stdout, or [exit N] + stderr + stdout)",
            "exec",
            body=EXEC_REQUEST,
            media_type="text/plain",
            response={"type": "string"},
            errors=_ERRORS,
        ),
    ),
]
