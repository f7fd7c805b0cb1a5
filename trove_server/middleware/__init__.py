"""ASGI middleware of the server (one class per module)."""
