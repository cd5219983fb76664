"""``trackrun logs UID``: print a run's log, and follow it while the run goes on."""

from __future__ import annotations

import click


@click.command("logs")
@click.argument("uid")
@click.option("--project", default="", help="The run's project (default: found from the uid).")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Start at this byte of the log.")
@click.option("--watch", is_flag=True, help="Follow the log while the run is running, then print its final state.")
def logs_command(uid: str, project: str, offset: int, watch: bool) -> None:
    """Print the log of run UID (secrets are masked when the log is written)."""
    import sys
    import time

    from trackrun.cli.get import find_run
    from trackrun.db import get_run_db
    from trackrun.schemas.run import TERMINAL_STATES

    db = get_run_db()
    project = find_run(db, uid, project)["metadata"]["project"]
    out = sys.stdout.buffer
    while True:
        state, body = db.get_log(uid, project, offset=offset)
        if body:
            out.write(body)
            out.flush()
            offset += len(body)
        if not watch or state in TERMINAL_STATES or not state:
            break
        time.sleep(0.5)
    if watch:
        # read what the run wrote between the last read and its end
        state, body = db.get_log(uid, project, offset=offset)
        if body:
            out.write(body)
            out.flush()
        click.echo(f"final state: {state}")
