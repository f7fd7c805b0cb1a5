"""Trove over MCP: the workspace as tools for Claude Desktop, Cursor, Claude Code, VS Code
and Windsurf, and the installer that wires it into their configs.

``trove_mcp.server.create_server(settings)`` builds the server; ``trove-mcp`` (or
``python -m trove_mcp``) runs it over stdio. ``trove_mcp.install`` edits client configs and
imports neither ``mcp`` nor ``httpx``, so ``trove mcp status`` stays fast. This module imports
nothing for the same reason.
"""
