"""``trackrun get runs|artifacts|projects``: list what the run database holds, as a table or JSON."""

from __future__ import annotations

from typing import Any

import click

from trackrun.cli.aliases import AliasedGroup
from trackrun.errors import NotFoundError

_STATES = ["created", "pending", "running", "completed", "error", "aborted"]


@click.group("get", cls=AliasedGroup)
def get_group() -> None:
    """Show runs, artifacts and projects (singular spellings work too: run, artifact/art, project)."""


@get_group.command("runs")
@click.argument("run_uid", metavar="[UID]", required=False)
@click.option("--project", default="", help="Project (default: 'default'); '*' for all projects.")
@click.option("--name", default="", help="Run name; a leading '~' matches a part of it.")
@click.option("--uid", "uid_filter", default="", help="Only the run with this uid.")
@click.option("--label", "labels", multiple=True, metavar="COND",
              help="Label filter: k=v, k!=v, k~=v or k (repeat to combine).")
@click.option("--state", type=click.Choice(_STATES), default=None, help="Only runs in this state.")
@click.option("--iter", "iteration", type=int, is_flag=False, flag_value=-1, default=None, metavar="[N]",
              help="Include hyper-parameter iterations; with a number, only that iteration.")
@click.option("--sort-by", default="", help="results.<key>, parameters.<key>, start_time, name or state; "
              "prefix '-' for descending.")
@click.option("--last", type=click.IntRange(min=0), default=100, show_default=True,
              help="At most this many runs (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--yaml", "as_yaml", is_flag=True, help="Print YAML instead of a table.")
def get_runs(run_uid: str | None, project: str, name: str, uid_filter: str, labels: tuple[str, ...],
             state: str | None, iteration: int | None, sort_by: str, last: int, as_json: bool,
             as_yaml: bool) -> None:
    """List runs, newest first; with a UID, show that run in full.

    \b
    Examples:
      trackrun get runs --project '*' --label framework=sklearn
      trackrun get runs --uid UID --iter --sort-by -results.accuracy
      trackrun get run UID --iter 2 --yaml
    """
    from trackrun.cli import parsing, render
    from trackrun.db import get_run_db

    db = get_run_db()
    filters = parsing.label_filters(labels)
    if run_uid and iteration != -1:
        record = find_run(db, run_uid, project, iteration or 0)
        if as_json:
            click.echo(render.to_json(record))
        elif as_yaml:
            click.echo(render.to_yaml(record), nl=False)
        else:
            _print_run(record)
        return
    uid = run_uid or uid_filter or None
    # a uid names one run in the whole database, so look in every project unless told otherwise
    runs = list(db.list_runs(name=name, uid=uid, project=project or ("*" if uid else ""), labels=filters,
                             state=state or "", iter=iteration is not None, sort_by=sort_by,
                             last=0 if iteration and iteration > 0 else last))
    if iteration is not None and iteration >= 0:
        runs = [r for r in runs if r["metadata"].get("iteration", 0) == iteration]
        runs = runs[:last] if last else runs
    if as_json:
        click.echo(render.to_json(runs))
    elif as_yaml:
        click.echo(render.to_yaml(runs), nl=False)
    elif not runs:
        click.echo("no runs match" + (" (add --project '*' to look in every project)" if not project else ""))
    else:
        with_project = project == "*"
        columns = ["project"] * with_project + ["name", "uid", "iter", "start", "state", "parameters", "results"]
        rows = [[r["metadata"].get("project", "")] * with_project + _run_row(r) for r in runs]
        render.print_table(columns, rows, no_wrap=("project", "name", "uid", "iter", "start"))


def _run_row(run: dict) -> list[Any]:
    from trackrun.cli.render import format_pairs

    meta, spec, status = run.get("metadata", {}), run.get("spec", {}), run.get("status", {})
    start = str(status.get("start_time") or "")[:19].replace("T", " ")
    state = status.get("state", "")
    if status.get("error") and state == "error":
        state += ": " + str(status["error"]).strip().splitlines()[0][:60]
    params = dict(spec.get("parameters") or {})
    if not meta.get("iteration"):  # a hyper-parameter parent: show the lists it iterated over
        params.update(spec.get("hyperparams") or {})
        if spec.get("param_file"):
            params["param_file"] = spec["param_file"]
    return [meta.get("name", ""), meta.get("uid", ""), meta.get("iteration", 0), start, state,
            format_pairs(params, "\n"), format_pairs(status.get("results"), "\n")]


def find_run(db: Any, uid: str, project: str = "", iteration: int = 0) -> dict:
    """The run with this uid: in ``project`` when given, else in whichever project holds it."""
    runs = db.list_runs(uid=uid, project=project or "*", iter=True, sort=False)
    for run in runs:
        if run["metadata"].get("iteration", 0) == iteration:
            return run
    where = f"in project '{project}'" if project and project != "*" else "in any project"
    if runs:
        raise NotFoundError(f"run {uid} has no iteration {iteration}; see them with "
                            f"`trackrun get runs --uid {uid} --iter`")
    raise NotFoundError(f"no run with uid '{uid}' {where}; list runs with `trackrun get runs --project '*'`")


def _print_run(run: dict) -> None:
    from trackrun.cli.render import console, format_pairs, print_table

    meta, spec, status = run.get("metadata", {}), run.get("spec", {}), run.get("status", {})
    fields = [("name", meta.get("name")), ("uid", meta.get("uid")), ("project", meta.get("project")),
              ("iteration", meta.get("iteration", 0)), ("state", status.get("state")),
              ("start", status.get("start_time")), ("end", status.get("end_time")),
              ("labels", format_pairs(meta.get("labels"))), ("handler", spec.get("handler")),
              ("parameters", format_pairs(spec.get("parameters"))), ("inputs", format_pairs(spec.get("inputs"))),
              ("results", format_pairs(status.get("results"))), ("artifact path", spec.get("output_path")),
              ("artifacts", ", ".join(a.get("key", "") for a in status.get("artifacts") or [])),
              ("status", status.get("status_text")), ("error", status.get("error"))]
    out = console()
    from rich.text import Text

    for label, value in fields:
        if value not in (None, "", [], {}):
            out.print(Text(f"{label + ':':<15}{value}"))
    if status.get("traceback"):
        out.print(Text("traceback:\n" + status["traceback"].rstrip()))
    table = status.get("iterations") or []
    if len(table) > 1:
        print_table([str(c) for c in table[0]], table[1:], title="iterations")


@get_group.command("artifacts")
@click.option("--project", default="", help="Project (default: 'default'); '*' for all projects.")
@click.option("--name", default="", help="Artifact key, or a part of it ('=' prefix for the exact key).")
@click.option("--tag", default="latest", show_default=True,
              help="'latest': newest version of each key; '*': every version; else versions with this tag.")
@click.option("--kind", default="", help="Only this kind (model, dataset, chart, table, ...).")
@click.option("--label", "labels", multiple=True, metavar="COND", help="Label filter: k=v, k!=v, k~=v or k.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def get_artifacts(project: str, name: str, tag: str, kind: str, labels: tuple[str, ...], as_json: bool) -> None:
    """List artifact versions."""
    from trackrun.cli import parsing, render
    from trackrun.db import get_run_db

    arts = list(get_run_db().list_artifacts(name=name, project=project, tag=tag, kind=kind,
                                            labels=parsing.label_filters(labels)))
    if as_json:
        click.echo(render.to_json(arts))
        return
    if not arts:
        click.echo("no artifacts match")
        return
    with_project = project == "*"
    columns = ["project"] * with_project + ["key", "kind", "iter", "tags", "hash", "size", "path", "uri"]
    rows = [[a.get("project", "")] * with_project
            + [a.get("key", ""), a.get("kind", ""), a.get("iter", 0), ", ".join(a.get("tags") or []),
               _short_hash(a.get("hash")), _size(a.get("size")), a.get("target_path", ""), a.get("uri", "")]
            for a in arts]
    render.print_table(columns, rows, no_wrap=("key", "kind", "iter", "tags", "hash", "size"))


def _short_hash(value: Any) -> str:
    text = str(value or "")
    return text.split(":", 1)[-1][:10]


def _size(size: Any) -> str:
    if size is None:
        return ""
    size = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


@get_group.command("projects")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def get_projects(as_json: bool) -> None:
    """List projects with how many runs and artifacts each holds."""
    from trackrun.cli import render
    from trackrun.db import get_run_db

    projects = get_run_db().list_projects()
    if as_json:
        click.echo(render.to_json(projects))
        return
    render.print_table(["name", "runs", "artifacts"], [[p["name"], p["runs"], p["artifacts"]] for p in projects])
