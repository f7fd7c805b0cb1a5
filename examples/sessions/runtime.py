"""The agent's side: a namespace-scoped key works in its namespace and nowhere else.

(. ./session.env && python examples/sessions/runtime.py)
"""

from __future__ import annotations

from trove_sdk import TroveAuthError, TroveClient


def main() -> None:
    with TroveClient.from_env() as trove:
        me = trove.me()
        print(f"key {me.key_id} is locked to namespace {me.namespace!r}")
        trove.write("workspace/notes.md", "# session notes\n")
        print(trove.exec_detailed("ls workspace && wc -c workspace/notes.md").stdout.strip())

    # The same key, asking for someone else's namespace, is refused by the server.
    with TroveClient.from_env("someone-else") as intruder:
        try:
            intruder.list_dir()
        except TroveAuthError as exc:
            print(f"other namespace refused: HTTP {exc.status_code} — {exc.message}")
        else:
            raise SystemExit("a scoped key reached another namespace")


if __name__ == "__main__":
    main()
