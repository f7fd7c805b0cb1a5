"""Everything a client does that is not I/O.

Each public method is an *operation*: a generator that yields ``Call`` descriptions and receives
``httpx.Response`` objects (or has a ``TroveError`` thrown into it), then returns the result.
Building requests, mapping responses to models and errors, and every multi-step decision
(``read`` falling back to raw bytes, ``get_init`` turning 404 into None, ``bootstrap``) live in
these generators once. ``_io.py`` drives them twice — with ``httpx.Client`` and with
``httpx.AsyncClient`` — so the sync and async clients differ only in how they send.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar, Union

import httpx

from trove_sdk._config import USE_CLIENT_DEFAULT, UseClientDefault
from trove_sdk._exceptions import (
    TroveConnectionError,
    TroveError,
    TroveTimeoutError,
    error_from_response,
)
from trove_sdk._models import Identity
from trove_sdk._retry import RetryPolicy
from trove_sdk._version import __version__

__all__ = [
    "BinarySource",
    "Call",
    "HTTPBase",
    "Op",
    "Parallel",
    "Sink",
    "Sleep",
    "Upload",
    "translate_transport_error",
]

T = TypeVar("T")
BinarySource = Union[bytes, bytearray, memoryview, IO[bytes]]  # noqa: UP007 — runtime alias
Timeout = Union[float, None, UseClientDefault, httpx.Timeout]  # noqa: UP007 — runtime alias
USER_AGENT = f"trove-sdk-python/{__version__}"
_UNSET: Any = object()
_CHUNK = 1 << 20


class Upload:
    """A request body read in chunks, so a 100 MB upload never sits in memory at once."""

    def __init__(self, source: BinarySource) -> None:
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._bytes: bytes | None = bytes(source)
            self._file: IO[bytes] | None = None
            self._start = self._pos = 0
            self.length: int | None = len(self._bytes)
            return
        if not hasattr(source, "read"):
            raise TypeError("upload data must be bytes or a binary file-like object")
        if isinstance(source, io.TextIOBase):  # type: ignore[unreachable]  # callers are untyped
            raise TypeError("upload needs a file opened in binary mode ('rb')")
        self._bytes, self._file = None, source
        self._start = self._pos = 0
        self.length = None
        try:
            self._start = source.tell()
            size = os.fstat(source.fileno()).st_size
            self.length = max(0, size - self._start)
        except (AttributeError, OSError, ValueError):
            try:  # BytesIO and other seekable streams without a file descriptor
                end = source.seek(0, os.SEEK_END)
                source.seek(self._start)
                self.length = end - self._start
            except (AttributeError, OSError, ValueError):
                self.length = None

    def rewind(self) -> bool:
        """Prepare to send again; False when the source cannot go back (a pipe)."""
        if self._file is None:
            self._pos = 0
            return True
        try:
            self._file.seek(self._start)
        except (AttributeError, OSError, ValueError):
            return False
        self._pos = 0
        return True

    def read_chunk(self) -> bytes:
        if self._bytes is not None:
            piece = self._bytes[self._pos : self._pos + _CHUNK]
            self._pos += len(piece)
            return piece
        assert self._file is not None
        # A file of known size is sent as it was when the upload began: Content-Length is
        # already declared, so a log file that grows meanwhile must not send more.
        want = _CHUNK if self.length is None else min(_CHUNK, self.length - self._pos)
        if want <= 0:
            return b""
        chunk: Any = self._file.read(want)
        if not isinstance(chunk, bytes):
            raise TypeError("upload needs a file opened in binary mode ('rb')")
        if not chunk and self.length is not None:
            raise TroveError(
                f"the file shrank while it was uploaded: {self.length} bytes were announced, "
                f"only {self._pos} could be read"
            )
        self._pos += len(chunk)
        return chunk

    @property
    def in_memory(self) -> bytes | None:
        return self._bytes


class Sink:
    """Where a streamed download goes: a path (written to a temp file, renamed when complete)
    or an open binary file. ``progress(done, total)`` is called after every chunk."""

    def __init__(
        self,
        dest: str | os.PathLike[str] | IO[bytes],
        progress: Callable[[int, int | None], object] | None = None,
    ) -> None:
        if isinstance(dest, (str, os.PathLike)):
            # Checked before the request is sent, so a typo costs no transfer.
            target = os.path.abspath(os.fspath(dest))
            if os.path.isdir(target):
                raise IsADirectoryError(f"download destination {target} is a directory")
            if not os.path.isdir(os.path.dirname(target)):
                raise FileNotFoundError(
                    f"download destination folder {os.path.dirname(target)} does not exist"
                )
        elif isinstance(dest, io.TextIOBase):  # type: ignore[unreachable]  # callers are untyped
            raise TypeError("download needs a file opened in binary mode ('wb')")
        self._dest = dest
        self._progress = progress
        self._file: IO[bytes] | None = None
        self._tmp: str | None = None
        self.written = 0
        self.size: int | None = None
        self.truncated = False

    @property
    def path(self) -> str:
        if isinstance(self._dest, (str, os.PathLike)):
            return os.fspath(self._dest)
        return str(getattr(self._dest, "name", "<stream>"))

    def begin(self, headers: httpx.Headers) -> None:
        self.written = 0
        raw = headers.get("x-trove-size")
        self.size = int(raw) if raw and raw.isdigit() else None
        self.truncated = headers.get("x-trove-truncated") == "1"
        if isinstance(self._dest, (str, os.PathLike)):
            target = os.path.abspath(os.fspath(self._dest))
            # Unique per download: two downloads to one destination must not share a temp file.
            self._tmp = f"{target}.part-{os.getpid()}-{secrets.token_hex(4)}"
            self._file = open(self._tmp, "xb")  # noqa: SIM115 — closed in finish/abort
        else:
            self._file = self._dest
        if self._progress:
            self._progress(0, self.size)

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        self._file.write(chunk)
        self.written += len(chunk)
        if self._progress:
            self._progress(self.written, self.size)

    def finish(self) -> None:
        if self._tmp is not None and self._file is not None:
            self._file.close()
            try:
                os.replace(self._tmp, os.fspath(self._dest))  # type: ignore[arg-type]
            except OSError:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._tmp)
                raise
            finally:
                self._tmp = None

    def abort(self) -> None:
        if self._tmp is not None and self._file is not None:
            self._file.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp)
            self._tmp = None


@dataclass
class Call:
    """One HTTP exchange an operation asks for; the driver sends (and maybe retries) it."""

    method: str
    url: str
    params: Mapping[str, str] | None = None
    json: Any = _UNSET
    upload: Upload | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    idempotent: bool = False
    timeout: Timeout = USE_CLIENT_DEFAULT
    sink: Sink | None = None


@dataclass
class Sleep:
    """Asks the driver to wait (polling loops)."""

    seconds: float


@dataclass
class Parallel:
    """Asks the driver to run several operations (concurrently when it can); the operation
    receives a list holding each one's result or raised ``TroveError``."""

    ops: Sequence[Generator[Any, Any, Any]]


Op = Generator[Call | Sleep | Parallel, Any, T]


class HTTPBase:
    """Configuration and request building shared by every client and both I/O drivers."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str,
        timeout: float | None,
        max_retries: int,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        if api_key is not None:
            api_key = _checked_key(api_key)
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        # Caught here rather than on the first request, where httpx reports it as a failure
        # to connect. Not echoed: a URL may carry credentials.
        if not isinstance(base_url, str) or not base_url.lower().startswith(
            ("http://", "https://")
        ):
            raise ValueError(
                "base_url must be an http:// or https:// URL (a local server: "
                "http://127.0.0.1:8000)"
            )
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._retry = RetryPolicy(max_retries=max_retries)
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if api_key is not None:
            headers["Authorization"] = f"Bearer {api_key}"
        headers.update(extra_headers or {})
        self._headers = headers

    @property
    def base_url(self) -> str:
        return self._base_url

    def _timeout_for(self, call: Call) -> httpx.Timeout:
        if isinstance(call.timeout, httpx.Timeout):
            return call.timeout
        value = self._timeout if isinstance(call.timeout, UseClientDefault) else call.timeout
        return httpx.Timeout(value)

    _http: httpx.Client | httpx.AsyncClient

    def _body_stream(self, upload: Upload) -> Any:
        """The upload as a chunk iterator of the driver's kind (sync or async)."""
        raise NotImplementedError

    def _build(self, call: Call) -> httpx.Request:
        kwargs = self._request_kwargs(call)
        if call.upload is not None:
            # Always in 1 MiB chunks, bytes included: httpcore's sync writer re-slices the
            # remaining buffer after every send(), which is quadratic for one large body.
            kwargs["content"] = self._body_stream(call.upload)
        return self._http.build_request(call.method, self._base_url + call.url, **kwargs)

    def _request_kwargs(self, call: Call) -> dict[str, Any]:
        headers = {**self._headers, **call.headers}
        kwargs: dict[str, Any] = {
            "params": call.params,
            "headers": headers,
            "timeout": self._timeout_for(call),
        }
        if call.json is not _UNSET:
            kwargs["json"] = call.json
        if call.upload is not None:
            headers["Content-Type"] = "application/octet-stream"
            if call.upload.length is not None:
                headers["Content-Length"] = str(call.upload.length)
        return kwargs

    def _me_op(self, timeout: Timeout = USE_CLIENT_DEFAULT) -> Op[Identity]:
        """``GET /v1/me``: who the key is (never sends ``X-Namespace``)."""
        response = yield Call("GET", "/v1/me", idempotent=True, timeout=timeout)
        return parse_model(response, Identity.from_dict)

    def _retry_delay(
        self,
        call: Call,
        attempt: int,
        request: httpx.Request,
        outcome: httpx.Response | httpx.TransportError,
    ) -> float:
        """Seconds to wait before sending ``call`` again; raises the final error instead when
        the policy (or a body that cannot be rewound) says not to retry."""
        if isinstance(outcome, httpx.Response):
            delay = self._retry.delay_after_response(
                outcome, attempt=attempt, idempotent=call.idempotent
            )
            final: TroveError = error_from_response(outcome)
        else:
            delay = self._retry.delay_after_error(
                outcome, attempt=attempt, idempotent=call.idempotent
            )
            final = translate_transport_error(outcome, request.url)
        if delay is None or (call.upload is not None and not call.upload.rewind()):
            raise final from (outcome if isinstance(outcome, Exception) else None)
        return delay


# What a bearer token may contain once surrounding whitespace is gone: printable ASCII.
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")


def _checked_key(api_key: object) -> str:
    """The key to send; never echoes it in the error, which may end up in a log."""
    if not isinstance(api_key, str) or not api_key.strip():
        raise ValueError("api_key must be a non-empty string")
    key = api_key.strip()  # a trailing newline from a file or a paste is not part of it
    if not _KEY_CHARS.fullmatch(key):
        raise ValueError(
            "api_key contains a space, control or non-ASCII character, which no key has "
            "(was it copied with extra text?)"
        )
    return key


def translate_transport_error(exc: httpx.TransportError, url: httpx.URL) -> TroveError:
    """The one place httpx's transport errors become ``TroveError``s.

    The URL is shown without its query and without any password in it: messages reach logs,
    terminals and (through the MCP server) the model.
    """
    shown = url.copy_with(query=None)
    if url.password:
        shown = shown.copy_with(username=url.username, password="***")  # noqa: S106 — a mask
    url_text = str(shown)
    exc_text = str(exc).replace(str(url), url_text)
    if url.password:
        exc_text = exc_text.replace(url.password, "***")
    if isinstance(exc, httpx.TimeoutException):
        return TroveTimeoutError(f"request to {url_text} timed out ({type(exc).__name__})")
    return TroveConnectionError(f"could not reach {url_text}: {exc_text or type(exc).__name__}")


def expect_json(response: httpx.Response) -> Any:
    """The response body as JSON, or a ``TroveError`` saying the server sent something else."""
    try:
        return response.json()
    except ValueError as exc:
        raise TroveError(
            f"expected JSON from {response.request.method} {response.request.url.path}, got "
            f"{response.headers.get('content-type', 'no content type')}",
            response.status_code,
            request_id=response.headers.get("x-request-id"),
        ) from exc


def expect_object(response: httpx.Response) -> Mapping[str, Any]:
    body = expect_json(response)
    if not isinstance(body, Mapping):
        raise TroveError(
            f"expected a JSON object from {response.request.url.path}", response.status_code
        )
    return body


def parse_model(response: httpx.Response, parser: Callable[[Mapping[str, Any]], T]) -> T:
    """Apply a model parser, turning a missing or mistyped required field into a TroveError."""
    body = expect_object(response)
    try:
        return parser(body)
    except (KeyError, TypeError, ValueError) as exc:
        raise TroveError(
            f"unexpected response from {response.request.url.path}: {exc!r}",
            response.status_code,
            request_id=response.headers.get("x-request-id"),
        ) from exc
