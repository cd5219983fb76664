"""A click group whose subcommands also answer to other spellings (``run``/``runs``, ``art``/``artifacts``)."""

from __future__ import annotations

import click

KIND_ALIASES = {"run": "runs", "artifact": "artifacts", "art": "artifacts", "arts": "artifacts",
                "project": "projects"}


class AliasedGroup(click.Group):
    """Resolves singular and short kind names to the command that lists that kind."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, KIND_ALIASES.get(cmd_name, cmd_name))

    def resolve_command(self, ctx: click.Context, args: list[str]):
        _, command, rest = super().resolve_command(ctx, args)
        return command.name if command else None, command, rest
