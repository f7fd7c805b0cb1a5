"""``trove run``: a shell command in the namespace; its exit code becomes ours."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import click

from trove_cli.errors import CLIError
from trove_cli.options import json_option, namespace_option

if TYPE_CHECKING:
    from trove_cli.app import App
    from trove_sdk import ExecResult, TroveClient

__all__ = ["run_command"]

# The server's own wall clock is 30 s; ours must not run out first.
RUN_TIMEOUT = 45.0
_LEGACY_EXIT = re.compile(r"^\[exit (\d+)\]")


def read_stdin(limit: int) -> str | None:
    """Piped stdin as text (None when a terminal or empty); refuses more than ``limit``
    bytes or bytes that are not UTF-8, before anything is sent."""
    from trove_cli import stdin

    if stdin.is_terminal():
        return None
    try:
        text = stdin.read_text(limit=limit)
    except CLIError as exc:
        raise CLIError(
            f"{exc.message}; upload the input with `trove put FILE workspace/in.dat` and "
            "redirect from it (`tool < workspace/in.dat`)"
        ) from None
    return text or None


def _legacy_exec(client: TroveClient, body: dict[str, Any]) -> tuple[int, str]:
    """``POST /exec`` (servers without ``/v1/exec``): text, exit code from ``[exit N]``."""
    text = client.exec_legacy(body["command"], stdin=body.get("stdin"))
    match = _LEGACY_EXIT.match(text)
    return (int(match.group(1)) if match else 0), text


@click.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@namespace_option()
@json_option("Print one JSON line: exit_code, stdout, stderr, duration_ms.")
@click.option("--no-stdin", is_flag=True, help="Do not forward piped stdin.")
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds the command may run (servers with the exec-extras extension).",
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def run_command(
    ctx: click.Context,
    namespace: str | None,
    as_json: bool,
    no_stdin: bool,
    timeout_s: float | None,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND in the namespace's workspace and exit with its exit code.

    Options go before the command; everything after it is the command.

    \b
    trove run ls workspace/
    trove run -n alice 'grep -c TODO workspace/*.md'
    echo '{"x": 1}' | trove run jq .x      # piped stdin is forwarded (1 MiB)
    """
    from trove_sdk import TroveNotFoundError
    from trove_sdk._config import MAX_STDIN_BYTES

    app: App = ctx.obj
    text = " ".join(command).strip()
    if not text:
        raise CLIError("empty command")
    stdin = None if no_stdin else read_stdin(MAX_STDIN_BYTES)
    out = app.output
    timeout = RUN_TIMEOUT if timeout_s is None else max(RUN_TIMEOUT, timeout_s + 15)
    with app.client(namespace, timeout=timeout) as client:
        try:
            result: ExecResult = client.exec_detailed(text, stdin=stdin, timeout_s=timeout_s)
        except TroveNotFoundError:
            body: dict[str, Any] = {"command": text}
            if stdin is not None:
                body["stdin"] = stdin
            code, legacy = _legacy_exec(client, body)
            if as_json:
                out.json(
                    {
                        "exit_code": code,
                        "stdout": legacy if code == 0 else "",
                        "stderr": legacy if code != 0 else "",
                        "duration_ms": 0,
                    }
                )
            elif legacy:
                out.out.write(legacy if legacy.endswith("\n") else legacy + "\n")
            ctx.exit(code)
    if as_json:
        out.json(
            {
                "exit_code": result.exit_code,
                "stdout": result.stdout,
                "stderr": result.stderr,
                "duration_ms": result.duration_ms,
            }
        )
    else:
        if result.stdout:
            out.out.write(result.stdout if result.stdout.endswith("\n") else result.stdout + "\n")
        if result.stderr:
            out.err.write(result.stderr if result.stderr.endswith("\n") else result.stderr + "\n")
        if result.timed_out:
            out.warn(f"note: the command timed out (exit {result.exit_code})")
        if result.stdout_truncated or result.stderr_truncated:
            out.warn("note: the server truncated the command's output")
    ctx.exit(result.exit_code)
