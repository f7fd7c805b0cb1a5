"""``python -m trove_webhooks [module:router]``: the receiver, configured by environment.

See ``trove_webhooks.config`` for the variables. Exit status 2 for a configuration error.
"""

from __future__ import annotations

import sys

from trove_webhooks.config import ReceiverSettings, serve
from trove_webhooks.errors import ConfigurationError


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(__doc__.strip())
        print((sys.modules["trove_webhooks.config"].__doc__ or "").strip())
        return 0
    try:
        settings = ReceiverSettings.from_env()
        if args:
            settings = ReceiverSettings(**{**settings.__dict__, "router": args[0]})
        serve(settings)
    except ConfigurationError as exc:
        print(f"trove_webhooks: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
