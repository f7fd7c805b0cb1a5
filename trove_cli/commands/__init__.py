"""One module per command group (see ``trove_cli.main.COMMANDS``)."""
