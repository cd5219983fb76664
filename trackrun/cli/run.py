"""``trackrun run``: run a Python file as a tracked run (once, or over hyper-parameters).

Everything the user typed is checked before anything is stored, so a typo leaves no half-made run.
"""

from __future__ import annotations

from typing import Any

import click

from trackrun.errors import InvalidArgumentError, RunError


@click.command("run", context_settings={"allow_interspersed_args": False})
@click.option("--name", default="", help="Run name (default: the handler, else the file's name).")
@click.option("--handler", default="", help="Call this function of SOURCE in process, instead of running it as "
              "a script.")
@click.option("--project", default="", help="Project to record the run in (default: 'default').")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A parameter; VALUE is read as JSON, a number or true/false, else kept as text.")
@click.option("-i", "--inputs", "inputs", multiple=True, metavar="NAME=URL",
              help="An input data item: a path or a file://, http(s)://, s3:// or store:// URL.")
@click.option("-s", "--secrets", "secrets", multiple=True, metavar="KIND=SOURCE",
              help="A secret source: file=secrets.txt, env=A,B or inline='{\"K\": \"v\"}'.")
@click.option("-x", "--hyperparam", "hyperparams", multiple=True, metavar="KEY=[LIST]",
              help="A hyper-parameter and its values as a JSON list, e.g. -x p1='[3,7,5]'.")
@click.option("--param-file", default="", help="Iterate over the rows of a .csv (or the lists of a .json) file.")
@click.option("--selector", default="", help="Pick the best iteration: max.<result> or min.<result>.")
@click.option("--strategy", type=click.Choice(["grid", "list", "random"]), default=None,
              help="How hyper-parameters combine (default grid; list for a .csv file).")
@click.option("--max-iterations", type=click.IntRange(min=1), default=None,
              help="Iterations to draw with --strategy random.")
@click.option("--max-errors", type=click.IntRange(min=0), default=None,
              help="Stop the sweep after more than this many failed iterations.")
@click.option("--stop-condition", default="", help="Stop the sweep when this holds, e.g. 'accuracy >= 0.9'.")
@click.option("--parallel", type=click.IntRange(min=1), default=None,
              help="Run up to N iterations at once.")
@click.option("--out-path", "--artifact-path", "out_path", default="",
              help="Where artifacts go (default: <db folder>/artifacts/<project>); may hold {{run.uid}}.")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE", help="A label to set on the run.")
@click.option("--workdir", default="", help="Folder the run starts in (relative SOURCE and inputs are read there).")
@click.option("--watch/--no-watch", default=True, help="Show the run's output as it runs (default: watch).")
@click.option("--dump", is_flag=True, help="Print the final run as YAML on stdout (everything else goes to "
              "stderr).")
@click.argument("source", metavar="SOURCE.py")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run_command(ctx: click.Context, source: str, args: tuple[str, ...], name: str, handler: str, project: str,
                params: tuple[str, ...], inputs: tuple[str, ...], secrets: tuple[str, ...],
                hyperparams: tuple[str, ...], param_file: str, selector: str, strategy: str | None,
                max_iterations: int | None, max_errors: int | None, stop_condition: str,
                parallel: int | None, out_path: str, labels: tuple[str, ...], workdir: str, watch: bool,
                dump: bool) -> None:
    """Run SOURCE.py as a tracked run; ARGS after it are passed to the script.

    \b
    Examples:
      trackrun run -p p1=5 -s file=secrets.txt -i infile.txt=infile.txt training.py
      trackrun run --name sweep -x p1='[3,7,5]' -x p2='[5,2]' --selector max.accuracy training.py
      trackrun run --handler train --param-file params.csv --parallel 4 training.py
    """
    import contextlib
    import os
    import sys

    task = _build_task(name, handler, project, params, inputs, secrets, hyperparams, param_file, selector,
                       strategy, max_iterations, max_errors, stop_condition, out_path, labels, workdir)
    command = _resolve_source(source, workdir)
    if handler:
        _preload_handler(command, handler)

    from trackrun.functions import new_function

    fn = new_function(project=project, kind="local", command=command, args=list(args), workdir=workdir or None)
    # with --dump, stdout carries only the YAML; the run's output and the summary go to stderr
    report = sys.stderr if dump else sys.stdout
    failure = None
    with contextlib.ExitStack() as stack:
        if watch:
            stack.enter_context(contextlib.redirect_stdout(report))
        else:
            devnull = stack.enter_context(open(os.devnull, "w"))
            stack.enter_context(contextlib.redirect_stdout(devnull))
            stack.enter_context(contextlib.redirect_stderr(devnull))
        try:
            result = fn.run(task, handler=handler or None, name=name, project=project,
                            artifact_path=out_path, parallel_runs=parallel)
        except RunError as exc:
            if exc.run is None:
                raise
            result, failure = exc.run, exc
    _print_summary(result, report)
    if dump:
        click.echo(result.to_yaml(), nl=False)
    if failure is not None:
        message = str(failure).strip().splitlines()
        click.echo(f"run failed: {message[0] if message else 'unknown error'}", err=True)
        ctx.exit(1)


def _build_task(name: str, handler: str, project: str, params: tuple[str, ...], inputs: tuple[str, ...],
                secrets: tuple[str, ...], hyperparams: tuple[str, ...], param_file: str, selector: str,
                strategy: str | None, max_iterations: int | None, max_errors: int | None, stop_condition: str,
                out_path: str, labels: tuple[str, ...], workdir: str):
    """The task the options describe; every malformed value raises `InvalidArgumentError` here."""
    from trackrun.cli import parsing
    from trackrun.task import new_task

    hyper = parsing.parse_hyperparams(hyperparams)
    if hyper and param_file:
        raise InvalidArgumentError("give either -x hyper-parameters or --param-file, not both")
    if (max_iterations or max_errors is not None or stop_condition) and not (hyper or param_file):
        raise InvalidArgumentError("--max-iterations, --max-errors and --stop-condition apply to hyper-parameter "
                                   "runs; add -x KEY=[LIST] or --param-file")
    options = {"max_iterations": max_iterations, "max_errors": max_errors,
               "stop_condition": stop_condition or None}
    task = new_task(name=name or None, project=project or None, handler=handler or None,
                    params=parsing.parse_params(params),
                    inputs=parsing.parse_strings("-i", inputs, "infile.txt=data/infile.txt"),
                    secrets=parsing.parse_secrets(secrets), hyper_params=hyper or None,
                    param_file=param_file or None, selector=selector or None, strategy=strategy,
                    artifact_path=out_path or None,
                    labels=parsing.parse_strings("--label", labels, "type=demo"),
                    hyper_param_options={k: v for k, v in options.items() if v is not None})
    if param_file or hyper:
        _check_iterations(task, workdir)
    return task


def _check_iterations(task: Any, workdir: str) -> None:
    """Expand the iterations once now, so a malformed param file or option fails before anything is stored."""
    import os

    from trackrun import hyper
    from trackrun.datastore.dataitem import get_dataitem
    from trackrun.datastore.paths import normalize_url

    spec = task.spec
    opts = spec.get("hyper_param_options") or {}
    param_file = spec.get("param_file")
    hyper.generate(spec.get("hyperparams") or None, opts.get("strategy"),
                   normalize_url(param_file, base_dir=os.path.abspath(workdir) if workdir else None) if param_file else None, opts.get("max_iterations"),
                   read=lambda url: get_dataitem(url).get())


def _resolve_source(source: str, workdir: str) -> str:
    """The absolute path of SOURCE: looked up in --workdir first, then in the current folder."""
    import os

    candidates = [os.path.join(workdir, source)] if workdir else []
    candidates.append(source)
    for path in candidates:
        if os.path.isfile(path):
            return os.path.abspath(path)
    where = f" (looked in {workdir} and the current folder)" if workdir else ""
    raise InvalidArgumentError(f"source file '{source}' does not exist{where}; give the path of a .py file")


def _preload_handler(command: str, handler: str) -> None:
    """Import SOURCE now so an import failure is reported as bad input, not as a traceback (the runtime
    reuses the imported module)."""
    from trackrun.errors import TrackrunError
    from trackrun.runtimes.loader import load_handler

    try:
        load_handler(command, handler)
    except TrackrunError:
        raise
    except Exception as exc:
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise InvalidArgumentError(f"cannot import {command} to find handler '{handler}': {detail}") from None


def _print_summary(result: Any, out: Any) -> None:
    from trackrun.cli.render import format_pairs

    meta, spec, status = result.metadata, result.spec, result.status
    uid, project = meta.get("uid", ""), meta.get("project", "")
    in_project = f" --project {project}" if project and project != "default" else ""
    lines = [f"run '{meta.get('name')}' {status.get('state')}  (uid {uid}, project {project})"]
    results = status.get("results") or {}
    if results:
        lines.append(f"  results:    {format_pairs(results)}")
    iterations = status.get("iterations") or []
    if iterations:
        best = results.get("best_iteration")
        lines.append(f"  iterations: {max(len(iterations) - 1, 0)}" + (f", best {best}" if best else "")
                     + (f"  ({status['status_text']})" if status.get("status_text") else ""))
    artifacts = [a.get("key", "") for a in status.get("artifacts") or []]
    if artifacts:
        lines.append(f"  artifacts:  {', '.join(artifacts)} in {spec.get('output_path', '')}")
    else:
        lines.append(f"  artifacts:  none (artifact path {spec.get('output_path', '')})")
    if status.get("error"):
        lines.append(f"  error:      {status['error'].strip().splitlines()[0]}")
    lines.append(f"  see it:     trackrun get runs --uid {uid}{in_project}"
                 + (" --iter" if iterations else "") + f"   |   trackrun logs {uid}{in_project}")
    print("\n".join(lines), file=out, flush=True)
