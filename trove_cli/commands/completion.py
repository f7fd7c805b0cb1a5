"""``trove completion SHELL``: the shell completion script, from click's own machinery."""

from __future__ import annotations

import click

__all__ = ["completion_command"]

COMPLETE_VAR = "_TROVE_COMPLETE"


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion_command(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash:  eval "$(trove completion bash)"        (add to ~/.bashrc)
    zsh:   eval "$(trove completion zsh)"         (add to ~/.zshrc)
    fish:  trove completion fish > ~/.config/fish/completions/trove.fish
    """
    from click.shell_completion import get_completion_class

    root = ctx.find_root().command
    completion_class = get_completion_class(shell)
    if completion_class is None:  # pragma: no cover — Choice above lists only known shells
        raise click.BadParameter(f"no completion for {shell}")
    script = completion_class(root, {}, "trove", COMPLETE_VAR).source()
    click.echo(script)
