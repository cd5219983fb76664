"""``trackrun delete runs|artifacts``: delete records matching filters. Without a filter it refuses unless
``--all`` is given. It asks for confirmation only on a terminal; in scripts and CI it proceeds."""

from __future__ import annotations

import click

from trackrun.cli.aliases import AliasedGroup
from trackrun.errors import InvalidArgumentError

_STATES = ["created", "pending", "running", "completed", "error", "aborted"]


@click.group("delete", cls=AliasedGroup)
def delete_group() -> None:
    """Delete runs or artifacts' records."""


def _confirm(what: str, yes: bool) -> None:
    import sys

    if yes or not sys.stdin.isatty():
        return
    if not click.confirm(f"delete {what}?", default=False):
        raise click.Abort()


@delete_group.command("runs")
@click.option("--project", default="", help="Project (default: 'default'); '*' for all projects.")
@click.option("--name", default="", help="Run name; a leading '~' matches a part of it.")
@click.option("--label", "labels", multiple=True, metavar="COND", help="Label filter: k=v, k!=v, k~=v or k.")
@click.option("--state", type=click.Choice(_STATES), default=None, help="Only runs in this state.")
@click.option("--days-ago", type=click.IntRange(min=1), default=None, help="Only runs started at least N days ago.")
@click.option("--uid", default="", help="Only the run with this uid (with its iterations).")
@click.option("--all", "everything", is_flag=True, help="Delete every run of the project (no filter needed).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete_runs(project: str, name: str, labels: tuple[str, ...], state: str | None, days_ago: int | None,
                uid: str, everything: bool, yes: bool) -> None:
    """Delete runs with their iterations, logs and metrics."""
    import time

    from trackrun.cli import parsing
    from trackrun.cli.get import find_run
    from trackrun.db import get_run_db

    filters = parsing.label_filters(labels)
    if not (name or filters or state or days_ago or uid or everything):
        raise InvalidArgumentError("no filter given: add --name, --label, --state, --days-ago or --uid, "
                                   "or --all to delete every run of the project")
    db = get_run_db()
    if uid:
        run = find_run(db, uid, project)
        meta = run["metadata"]
        if (name and meta.get("name") != name) or (state and run["status"].get("state") != state):
            click.echo("deleted 0 runs")
            return
        _confirm(f"run {meta.get('name')} ({uid})", yes)
        db.del_run(uid, meta["project"])
        click.echo("deleted 1 run")
        return
    before = time.time() - days_ago * 86400 if days_ago else None
    count = db.count_runs(name=name, project=project, labels=filters, state=state or "", start_time_to=before)
    if count == 0:
        click.echo("deleted 0 runs")
        return
    where = "every project" if project == "*" else f"project {project or 'default'}"
    _confirm(f"{count} run(s) in {where}", yes)
    db.del_runs(name=name, project=project, labels=filters, state=state or "", days_ago=days_ago or 0)
    click.echo(f"deleted {count} run{'s' if count != 1 else ''}")


@delete_group.command("artifacts")
@click.option("--project", default="", help="Project (default: 'default'); '*' for all projects.")
@click.option("--name", default="", help="Artifact key, or a part of it ('=' prefix for the exact key).")
@click.option("--tag", default="", help="Only versions with this tag (default: every version).")
@click.option("--label", "labels", multiple=True, metavar="COND", help="Label filter: k=v, k!=v, k~=v or k.")
@click.option("--all", "everything", is_flag=True, help="Delete every artifact of the project.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete_artifacts(project: str, name: str, tag: str, labels: tuple[str, ...], everything: bool,
                     yes: bool) -> None:
    """Delete artifact versions' records (the files they point to are left in place)."""
    from trackrun.cli import parsing
    from trackrun.db import get_run_db

    filters = parsing.label_filters(labels)
    if not (name or tag or filters or everything):
        raise InvalidArgumentError("no filter given: add --name, --tag or --label, "
                                   "or --all to delete every artifact of the project")
    db = get_run_db()
    count = len(db.list_artifacts(name=name, project=project, tag=tag or "*", labels=filters))
    if count == 0:
        click.echo("deleted 0 artifacts")
        return
    _confirm(f"{count} artifact version(s)", yes)
    deleted = db.del_artifacts(name=name, project=project, tag=tag, labels=filters)
    click.echo(f"deleted {deleted} artifact{'s' if deleted != 1 else ''}")
