"""``trainyard schedule create|list|show|enable|disable|delete`` and ``trainyard scheduler``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from trainyard.cli.models import OutputOpt, _ws
from trainyard.cli.output import Format, console, fmt_time, print_json, table
from trainyard.cli.pipelines import SetOpt, input_values

if TYPE_CHECKING:
    from trainyard.store.records import Schedule, ScheduleFiring

app = typer.Typer(
    help="Schedules: published pipelines run by cron, interval or data change.", no_args_is_help=True
)


def _next(schedule: Schedule) -> str:
    if not schedule.enabled:
        return "disabled"
    if schedule.trigger == "data":
        return "on change"
    return fmt_time(schedule.next_fire)


def _outcome(firing: ScheduleFiring) -> str:
    if firing.action == "skip":
        return "skipped (missed)"
    if firing.error:
        return f"failed: {firing.error}"
    return f"run {firing.run_id}" if firing.run_id else "claimed, no run recorded"


@app.command("create")
def create(
    name: str = typer.Argument(..., help="The schedule's name."),
    pipeline: str = typer.Option(
        ..., "--pipeline", "-p", help="A published pipeline (its default version runs)."
    ),
    cron: str = typer.Option(None, "--cron", help="A cron expression in UTC, e.g. '0 3 * * *'."),
    every: str = typer.Option(None, "--every", help="An interval: 90s, 15m, 1h, 1d, 1h30m."),
    on_data_change: str = typer.Option(
        None, "--on-data-change", help="A data asset (NAME or data:NAME) or a file or folder to watch."
    ),
    overrides: list[str] = SetOpt,
    missed: str = typer.Option(
        "run-once", "--missed", help="Times missed while no scheduler ran: run-once or skip."
    ),
    poll: str = typer.Option(None, "--poll", help="How often --on-data-change looks (default 30s)."),
) -> None:
    """Run a published pipeline on a cron, an interval, or when data changes."""
    from trainyard.pipelines.schedules import create_schedule, describe

    ws = _ws()
    made = create_schedule(
        ws,
        name,
        pipeline=pipeline,
        cron=cron,
        every=every,
        on_data_change=on_data_change,
        inputs=input_values(overrides),
        missed=missed,
        poll=poll,
    )
    console.print(f"schedule [bold]{name}[/]: {pipeline} {describe(made)}, next: {_next(made)}")
    if not ws.is_server:
        console.print("an embedded workspace fires its schedules while `trainyard scheduler` runs")


@app.command("list")
def list_schedules(output: Format = OutputOpt) -> None:
    """Every schedule with its trigger and next fire time."""
    from dataclasses import asdict

    from trainyard.pipelines.schedules import describe

    schedules = _ws().store.list_schedules()
    if output == Format.json:
        print_json([asdict(s) for s in schedules])
        return
    rows = [
        [
            s.name,
            s.pipeline,
            describe(s),
            _next(s),
            s.missed,
            ", ".join(f"{k}={v}" for k, v in s.inputs.items()) or "-",
        ]
        for s in schedules
    ]
    console.print(table(None, ["name", "pipeline", "trigger", "next", "missed", "inputs"], rows))


@app.command("show")
def show(
    name: str = typer.Argument(..., help="A schedule's name."),
    limit: int = typer.Option(20, "--limit", help="How many firings to show."),
    output: Format = OutputOpt,
) -> None:
    """A schedule and its latest firings: due time, missed times, the run it queued."""
    from dataclasses import asdict

    from trainyard.pipelines.schedules import describe

    ws = _ws()
    schedule = ws.store.get_schedule(name)
    firings = ws.store.list_schedule_firings(name, limit=limit)
    if output == Format.json:
        print_json({**asdict(schedule), "firings": [asdict(f) for f in firings]})
        return
    console.print(f"[bold]{name}[/]: {schedule.pipeline} {describe(schedule)}, next: {_next(schedule)}")
    timed = schedule.trigger != "data"  # a data schedule's firings have no due time, only a change seen
    rows = [
        [fmt_time(f.due) if timed else "-", fmt_time(f.claimed_at), f.missed, _outcome(f)] for f in firings
    ]
    console.print(table("firings", ["due", "fired", "missed", "outcome"], rows))


@app.command("enable")
def enable(name: str = typer.Argument(..., help="A schedule's name.")) -> None:
    """Fire again from the next due time (the times it was disabled are not missed)."""
    from trainyard.pipelines.schedules import set_enabled

    made = set_enabled(_ws(), name, True)
    console.print(f"schedule {name} enabled, next: {_next(made)}")


@app.command("disable")
def disable(name: str = typer.Argument(..., help="A schedule's name.")) -> None:
    """Stop firing until enabled."""
    from trainyard.pipelines.schedules import set_enabled

    set_enabled(_ws(), name, False)
    console.print(f"schedule {name} disabled")


@app.command("delete")
def delete(name: str = typer.Argument(..., help="A schedule's name.")) -> None:
    """Delete a schedule and its firing history (the runs it queued stay)."""
    _ws().store.delete_schedule(name)
    console.print(f"schedule {name} deleted")


def scheduler() -> None:
    """Fire this workspace's schedules until Ctrl-C (a team server runs its own)."""
    import signal
    import time

    from rich.console import Group
    from rich.live import Live
    from rich.table import Table

    from trainyard.errors import InvalidInputError
    from trainyard.pipelines.schedules import Scheduler, describe

    ws = _ws()
    if ws.is_server:
        raise InvalidInputError(
            f"{ws.config.store} runs this workspace's schedules itself; nothing to run here"
        )
    log: list[str] = []

    def fired(firing: ScheduleFiring, schedule: Schedule) -> None:
        missed = f", {firing.missed} missed" if firing.missed else ""
        why = "changed" if schedule.trigger == "data" else f"due {fmt_time(firing.due)}"
        when = f"{fmt_time(firing.claimed_at)}  {schedule.name}: {why}"
        log.append(f"{when}{missed}: {_outcome(firing)}")
        del log[:-10]

    loop = Scheduler(ws, on_firing=fired)

    def view() -> Group | Table:

        rows = [[s.name, s.pipeline, describe(s), _next(s)] for s in loop.schedules]
        grid = table(
            "trainyard scheduler (Ctrl-C stops it)", ["schedule", "pipeline", "trigger", "next"], rows
        )
        return Group(grid, *log) if log else grid

    # Ctrl-C between passes stops at once; during a pass it stops after it, so a firing the pass
    # claimed gets its run (or its error) written and is never left claimed with neither.
    state = {"firing": False, "stop": False}

    def interrupt(signum: int, frame: object) -> None:
        state["stop"] = True
        if not state["firing"]:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        with Live(view(), console=console, refresh_per_second=2) as live:
            while not state["stop"]:
                state["firing"] = True
                try:
                    loop.tick()
                except Exception as exc:  # the store away for a moment: say so, go on
                    log.append(f"pass failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
                finally:
                    state["firing"] = False
                live.update(view())
                if not state["stop"]:
                    time.sleep(loop.wait_seconds())
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, previous)
    console.print("scheduler stopped")
