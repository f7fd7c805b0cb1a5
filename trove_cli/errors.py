"""Exit codes (CONTRACT §5.3) as a table, and the one function that reports a failure.

=====================================  ====  ==============================================
condition                              exit  what stderr says
=====================================  ====  ==============================================
success                                0
``trove run``                          N     the remote command's own exit code
``TroveAuthError`` (401/403)           2     ``error: HTTP 401 — Invalid API key``
any other HTTP error                   1     ``error: HTTP 404 — Path not found: …``
no answer (refused, DNS, timeout)      4     ``error: network — could not reach <url>: …``
no such profile                        3     ``error: no profile named 'x' …; run 'trove login'``
Ctrl-C                                 130
the reader of stdout went away         141   nothing (``trove events list | head -1``)
click usage error / ``CLIError``       2 / 1 click's own format
anything else                          1     ``error: <Type>: <message>`` (``--debug``: raise)
=====================================  ====  ==============================================
"""

from __future__ import annotations

import sys

import click

from trove_cli.config import ProfileNotFound

__all__ = [
    "EXIT_AUTH",
    "EXIT_BROKEN_PIPE",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NETWORK",
    "EXIT_NO_PROFILE",
    "CLIError",
    "exit_code_for",
    "handle",
    "is_expected",
    "message_for",
]

EXIT_ERROR = 1
EXIT_AUTH = 2
EXIT_NO_PROFILE = 3
EXIT_NETWORK = 4
EXIT_INTERRUPTED = 130
# What a shell reports for a program killed by SIGPIPE (`seq 1 1000000 | head -1`): Python
# ignores that signal, so the same situation reaches us as a BrokenPipeError instead.
EXIT_BROKEN_PIPE = 141


class CLIError(click.ClickException):
    """A failure the user can fix, explained in one line (exit 1 unless told otherwise)."""

    def __init__(self, message: str, *, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def format_message(self) -> str:
        return self.message

    def show(self, file: object = None) -> None:
        from trove_cli.output import Output

        Output().error(f"error: {self.format_message()}")


def _is_network(exc: BaseException) -> bool:
    from trove_sdk import TroveConnectionError, TroveTimeoutError

    # A timeout with a status is the server's 408/504 (an HTTP answer); without one, our own
    # clock ran out waiting for any answer at all.
    if isinstance(exc, TroveTimeoutError):
        return exc.status_code is None
    return isinstance(exc, TroveConnectionError)


def exit_code_for(exc: BaseException) -> int:
    """The exit code for an exception that escaped a command."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        return EXIT_BROKEN_PIPE
    if isinstance(exc, ProfileNotFound):
        return EXIT_NO_PROFILE
    if not _sdk_loaded():
        return EXIT_ERROR
    from trove_sdk import TroveAuthError

    if isinstance(exc, TroveAuthError):
        return EXIT_AUTH
    if _is_network(exc):
        return EXIT_NETWORK
    return EXIT_ERROR


def is_expected(exc: BaseException) -> bool:
    """A failure this table describes (an HTTP answer, no answer, no profile, a closed pipe,
    Ctrl-C): ``--debug`` reports it like any other run, since a traceback would say no more
    and would change the exit code scripts rely on."""
    if isinstance(exc, (KeyboardInterrupt, BrokenPipeError, ProfileNotFound)):
        return True
    if not _sdk_loaded():
        return False
    from trove_sdk import TroveError

    return isinstance(exc, TroveError)


def message_for(exc: BaseException) -> str | None:
    """The one stderr line for ``exc`` (None for Ctrl-C, which prints a bare newline)."""
    if isinstance(exc, KeyboardInterrupt):
        return None
    if isinstance(exc, ProfileNotFound):
        return f"error: {exc}"
    if _sdk_loaded():
        from trove_sdk import TroveError

        if _is_network(exc):
            return f"error: network — {exc}"
        if isinstance(exc, TroveError):
            if exc.status_code is not None:
                return f"error: HTTP {exc.status_code} — {_clip(str(exc))}"
            return f"error: {exc}"
    return f"error: {type(exc).__name__}: {exc}"


def handle(exc: BaseException) -> int:
    """Report ``exc`` on stderr and return the exit code."""
    from trove_cli.output import Output

    if isinstance(exc, BrokenPipeError):
        # Not a failure worth a word: whoever read our output has what they wanted.
        _discard_stdout()
        return exit_code_for(exc)
    message = message_for(exc)
    if message is None:
        Output().err.line("")
    else:
        Output().error(message)
    return exit_code_for(exc)


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of what is still buffered
    does not fail a second time ("Exception ignored ... BrokenPipeError")."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):  # no real file descriptor (a test runner)
        pass


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _sdk_loaded() -> bool:
    # Errors from trove_sdk can only exist once it is imported; checking first keeps the error
    # path of a command that never touched the network (a bad profile) free of httpx.
    return "trove_sdk" in sys.modules
