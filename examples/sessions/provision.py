"""Provision an agent session: mint a key that only works in the session's namespace.

    TROVE_ADMIN_KEY=trove-sk-... python examples/sessions/provision.py session-42 > session.env

Prints ``export`` lines for the session (``TROVE_API_KEY``, ``TROVE_NAMESPACE``, ...) on
stdout; diagnostics go to stderr.
"""

from __future__ import annotations

import shlex
import sys

from trove_sdk import TroveAdminClient


def main(session: str) -> None:
    with TroveAdminClient.from_env() as admin:
        key = admin.create_key(f"agent-{session}", namespace=session)
        print(
            f"minted {key.key_id} ({key.prefix}…) locked to namespace {session!r}", file=sys.stderr
        )
        settings = {
            "TROVE_BASE_URL": admin.base_url,
            "TROVE_WORKSPACE_ID": admin.workspace_id,
            "TROVE_NAMESPACE": session,
            "TROVE_API_KEY": key.api_key,  # shown once; only its hash is stored
            "TROVE_SESSION_KEY_ID": key.key_id,
        }
        for name, value in settings.items():
            print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: provision.py SESSION_NAMESPACE")
    main(sys.argv[1])
