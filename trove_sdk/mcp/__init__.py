"""Where trove-sdk 0.7–0.10 kept its MCP server; the server now lives in ``trove_mcp``."""
