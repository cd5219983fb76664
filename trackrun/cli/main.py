"""The ``trackrun`` command: the group, ``version``, ``config`` and the mapping of errors to exit codes.

Only click and trackrun.errors are imported at module level so that ``trackrun --help`` stays instant;
each command imports what it needs when it runs.

Exit codes: 0 success; 1 a run failed or another trackrun error; 2 bad input (one line on stderr).
"""

from __future__ import annotations

import os
import sys

import click

from trackrun.cli import delete, get, logs, run
from trackrun.errors import InvalidArgumentError, NotFoundError, RunError, TrackrunError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.option("--db", "db", metavar="PATH_OR_URL", envvar="TRACKRUN_DBPATH", show_envvar=True,
              help="The run database: a folder, a sqlite:/// or postgresql:// URL (default ~/.trackrun).")
def cli(db: str | None) -> None:
    """Run ML code as tracked jobs and find every run, result, log and artifact again."""
    if db:
        # the store, the runtimes and any child process all read it from the environment
        os.environ["TRACKRUN_DBPATH"] = db


@cli.command()
def version() -> None:
    """Print the trackrun version."""
    from trackrun import __version__

    click.echo(f"trackrun {__version__}")


@cli.command("config")
def show_config() -> None:
    """Print the effective settings (secrets hidden) and where runs and artifacts are stored."""
    import yaml

    import trackrun.config as settings
    from trackrun.db.factory import default_artifact_root, resolve_url

    values = settings.load()
    url = resolve_url()
    resolved = {"db_url": settings.redact_url(url),
                "artifact_root": settings.redact_url(values["artifact_path"] or default_artifact_root(url))}
    click.echo(yaml.safe_dump({"settings": settings.redacted(values), "resolved": resolved}, sort_keys=False),
               nl=False)


cli.add_command(run.run_command)
cli.add_command(get.get_group)
cli.add_command(logs.logs_command)
cli.add_command(delete.delete_group)


# click >= 8.2 raises this for a group called without a subcommand; 8.1 printed the help itself
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def _one_line(text: str) -> str:
    return " ".join(str(text).split()) or "(no message)"


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``trackrun`` script and of ``python -m trackrun``; exits the process."""
    try:
        code = cli.main(args=argv, prog_name="trackrun", standalone_mode=False)
    except _NO_ARGS_IS_HELP as exc:  # a bare group: show its help, as click 8.1 did
        click.echo(exc.ctx.get_help() if exc.ctx is not None else "")
        code = EXIT_OK
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        click.echo(f"error: {_one_line(exc.format_message())}{hint}", err=True)
        code = EXIT_BAD_INPUT
    except click.ClickException as exc:
        click.echo(f"error: {_one_line(exc.format_message())}", err=True)
        code = exc.exit_code
    except click.Abort as exc:  # click turns Ctrl-C into Abort; the shell convention for it is 130
        interrupted = isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt)
        click.echo("interrupted" if interrupted else "aborted", err=True)
        code = 130 if interrupted else EXIT_FAILED
    except RunError as exc:
        click.echo(f"run failed: {str(exc).strip().splitlines()[0] if str(exc).strip() else 'unknown error'}",
                   err=True)
        code = EXIT_FAILED
    except (InvalidArgumentError, NotFoundError) as exc:
        click.echo(f"error: {_one_line(str(exc))}", err=True)
        code = EXIT_BAD_INPUT
    except TrackrunError as exc:
        click.echo(f"error: {_one_line(str(exc))}", err=True)
        code = EXIT_FAILED
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        code = 130
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":
    main()
