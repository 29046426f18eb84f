"""The `wmsight` command line."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, SecretStr, ValidationError
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from wmsight.config import Settings, load_settings
from wmsight.runner import (
    RunContext,
    Stage,
    StageReport,
    WarehouseBusy,
    run_stages,
    warehouse_lock,
)

app = typer.Typer(
    help=(
        "wmsight: warehouse analytics from CRM, ERP and e-commerce extracts.\n\n"
        "Start with `wmsight generate` (a demo world) and `wmsight run` (the whole pipeline). "
        "Paths default to ./demo_data and can be set with WMSIGHT_EXTRACTS_DIR, "
        "WMSIGHT_DB_PATH and WMSIGHT_FEEDS_DIR."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)

ExtractsOption = Annotated[
    Path | None,
    typer.Option("--extracts", help="Folder of drops (one YYYY-MM-DD folder per delivery)."),
]
DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB file of the warehouse.")]
FeedsOption = Annotated[Path | None, typer.Option("--feeds", help="Folder feeds are published to.")]


CsvOption = Annotated[
    bool,
    typer.Option(
        "--csv", help="Also write CSV copies of the feeds (formula-like text escaped with ')."
    ),
]
KeepRunsOption = Annotated[
    int | None,
    typer.Option(
        "--keep-runs",
        min=1,
        help="Feed run folders to keep, newest first (default: WMSIGHT_FEEDS_KEEP_RUNS or 30).",
    ),
]


@contextmanager
def _writing(db_path: Path, purpose: str) -> Iterator[None]:
    """Hold the warehouse's write lock; a second writer exits with who holds it."""
    try:
        with warehouse_lock(db_path, purpose):
            yield
    except WarehouseBusy as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(code=2) from error


@contextmanager
def _lock_busy_exits() -> Iterator[None]:
    """For commands that take the lock themselves, step by step: busy exits like _writing."""
    try:
        yield
    except WarehouseBusy as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(code=2) from error


def _environment_name(loc: tuple[int | str, ...]) -> str:
    """The WMSIGHT_* variable that sets the value at `loc`: nested settings join their
    fields with __ (plan.order_cost_cny → WMSIGHT_PLAN__ORDER_COST_CNY); a key inside a
    value (service_levels' A) is part of that variable's value, not of its name."""
    fields, model = [], Settings
    for part in loc:
        if model is None or part not in model.model_fields:
            break
        fields.append(str(part))
        annotation = model.model_fields[part].annotation
        model = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    return "WMSIGHT_" + "__".join(fields).upper()


def _settings(**overrides: object) -> Settings:
    """The settings, or a clear exit naming each bad WMSIGHT_* value (not a traceback)."""
    try:
        return load_settings(**overrides)
    except ValidationError as error:
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"])
            console.print(  # (no markup: the value is the user's text, brackets and all)
                f"setting {name} ({_environment_name(problem['loc'])}) = "
                f"{problem.get('input')!r}: {problem['msg']}",
                style="red",
                markup=False,
            )
        raise typer.Exit(code=2) from error


def _as_of(text: str | None) -> date | None:
    """An --as-of value: a calendar date, nothing else (it names folders under the feeds)."""
    if text is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise typer.BadParameter(f"not a date (YYYY-MM-DD): {text!r}", param_hint="'--as-of'")


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(console=console, show_path=False, markup=False)],
        force=True,
    )


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the drops into.")] = Path(
        "demo_data/extracts"
    ),
    scale: Annotated[float, typer.Option(help="1 ≈ 5,000 customers, 300 SKUs, 200k lines.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 42,
    days: Annotated[int, typer.Option(help="Days of history in the first drop.")] = 730,
    delta_drops: Annotated[int, typer.Option(help="Daily delta drops after the first.")] = 3,
    dirty: Annotated[float, typer.Option(help="Share of extra bad rows (0 = clean).")] = 0.0,
    end_date: Annotated[
        str, typer.Option(help="Date of the last drop (YYYY-MM-DD); never the wall clock.")
    ] = "2025-11-30",
) -> None:
    """Write a believable demo business as extract drops (plus ground truth in OUT/_truth)."""
    from wmsight.demo import generate_world

    _setup_logging("INFO")
    with console.status("generating the demo world …") as status:
        summary = generate_world(
            out,
            scale=scale,
            seed=seed,
            days=days,
            delta_drops=delta_drops,
            dirty=dirty,
            end_date=date.fromisoformat(end_date),
            progress=lambda line: status.update(line),
        )
    total = sum(summary.rows.values())
    console.print(
        f"[green]wrote {len(summary.drops)} drop(s), {total:,} rows to {out} "
        f"in {summary.seconds:.1f} s[/green] ({summary.dirty_rows:,} bad rows mixed in)"
    )


@app.command()
def ingest(extracts: ExtractsOption = None, db: DbOption = None) -> None:
    """Load every extract drop not loaded yet into DuckDB (schema raw), checked by the contracts.

    Bad rows go to raw.quarantine with file, line, column, rule and original text;
    unreadable files are rejected whole; raw.load_log accounts for every row.
    Loading the same drop again changes nothing.
    """
    from ingest.load import FileLoad, ingest_extracts

    settings = _settings(extracts_dir=extracts, db_path=db)
    _setup_logging(settings.log_level)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("ingest", total=None)

        def on_drops(drops, files: int) -> None:
            progress.update(task, total=files, description=f"ingest {len(drops)} drop(s)")

        def on_file(loaded: FileLoad) -> None:
            progress.update(task, advance=1, description=f"{loaded.drop_date} {loaded.source_file}")

        with _writing(settings.db_path, "wmsight ingest"):
            result = ingest_extracts(
                settings.extracts_dir,
                settings.db_path,
                on_file=on_file,
                on_drops=on_drops,
                workers=settings.ingest_workers,
            )
    table = Table(title=f"ingest into {settings.db_path}")
    for column in ("drop", "file", "status", "read", "loaded", "quarantined", "note"):
        table.add_column(
            column, justify="right" if column in ("read", "loaded", "quarantined") else "left"
        )
    for f in result.files:
        if f.status == "unchanged":
            continue
        style = {"rejected": "red", "unknown": "yellow"}.get(f.status, "")
        table.add_row(
            str(f.drop_date),
            f.source_file,
            f"[{style}]{f.status}[/]" if style else f.status,
            f"{f.rows_read:,}",
            f"{f.rows_loaded:,}",
            f"{f.rows_quarantined:,}",
            f.message[:80],
        )
    console.print(table)
    unchanged = result.count("unchanged")
    console.print(
        f"{result.rows_loaded:,} rows loaded, {result.rows_quarantined:,} quarantined, "
        f"{result.count('rejected')} file(s) rejected, {result.count('unknown')} unknown"
        + (f", {unchanged} file(s) already loaded" if unchanged else "")
    )


@app.command()
def transform(db: DbOption = None) -> None:
    """Build the warehouse with dbt (`dbt build`: seeds, models and all tests) in-process.

    Reports every failing model and test by name and exits non-zero when any fails.
    """
    from wmsight.transform import run_dbt

    settings = _settings(db_path=db)
    _setup_logging(settings.log_level)
    with _writing(settings.db_path, "wmsight transform"), console.status("dbt build …"):
        result = run_dbt(settings.db_path, "build")
    console.print(result.summary())
    for failure in result.failures:
        console.print(f"[red]{failure}[/red]" if failure.status != "skipped" else str(failure))
    if not result.success:
        raise typer.Exit(code=1)


@app.command()
def forecast(
    db: DbOption = None,
    warehouse: Annotated[
        list[str] | None,
        typer.Option(
            "--warehouse", help="Forecast only this warehouse (repeatable); default: all."
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Forecast from this date (default: the latest order date)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: one per CPU).")
    ] = None,
    lock_wait: Annotated[
        float,
        typer.Option(
            min=0,
            help="Seconds to wait for the warehouse lock to read inputs and to write results "
            "(fitting holds no lock).",
        ),
    ] = 120.0,
) -> None:
    """Forecast demand per warehouse × SKU for the next 8 weeks into the ml schema
    (WMSIGHT_FORECAST__HORIZON_DAYS and the other WMSIGHT_FORECAST__* settings change it).

    Every series is classified (smooth, erratic, intermittent, lumpy, new, discontinued),
    routed to Prophet, Croston SBA / TSB or a category profile, and backtested against
    seasonal naive; ml.forecast_series says which model each series got and why. Only
    the given warehouses' rows are replaced, and the warehouse lock is held only to read
    the inputs and to write the results, so runs for different warehouses fit in parallel.
    """
    from models_ml.demand import NoDemandData
    from models_ml.forecast import run_forecast

    settings = _settings(db_path=db)
    _setup_logging(settings.log_level)
    with (
        _lock_busy_exits(),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("forecast series", total=None)
        try:
            result = run_forecast(
                settings.db_path,
                warehouses=warehouse or None,
                as_of=_as_of(as_of),
                config=settings.forecast.model_copy(
                    update={"workers": workers or settings.forecast.workers}
                ),
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
                lock_wait_seconds=lock_wait,
            )
        except NoDemandData as error:
            console.print(f"[red]no forecast: {error}[/red]")
            raise typer.Exit(code=1) from error
    console.print(f"{result.summary()} in {result.seconds:.1f} s")


@app.command()
def plan(
    db: DbOption = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Plan from the latest stock position on or before this date."),
    ] = None,
) -> None:
    """Replenishment plan per warehouse × SKU (safety stock, reorder point, order quantity),
    purchase proposals and transfers between warehouses, into the ml schema.

    The same step as the plan stage of `wmsight run`; re-running replaces its rows.
    docs/REPLENISHMENT.md has the policy.
    """
    from models_ml.replenishment import PlanInputError, run_replenishment

    settings = _settings(db_path=db)
    _setup_logging(settings.log_level)
    with _writing(settings.db_path, "wmsight plan"), console.status("planning …"):
        try:
            result = run_replenishment(settings.db_path, as_of=_as_of(as_of), config=settings.plan)
        except PlanInputError as error:
            console.print(f"[red]no plan: {error}[/red]")
            raise typer.Exit(code=1) from error
    console.print(result.summary())
    console.print(f"plan settings: {settings.plan.describe()}", highlight=False)
    for warning in result.warnings:
        console.print(f"[yellow]warning[/yellow] {warning}", highlight=False)


@app.command()
def customers(
    db: DbOption = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Score as of this date (default: the latest order date)."),
    ] = None,
    rules: Annotated[
        Path | None,
        typer.Option("--rules", help="YAML file of business rules (default: the shipped rules)."),
    ] = None,
) -> None:
    """Customer intelligence: churn probability (BG/NBD), expected next order date and
    12-month value (Gamma-Gamma) per customer, churn alerts with their evidence, and the
    business rules' actions.

    Writes ml.customer_scores and ml.churn_alerts (this run) and their _history tables
    (every as-of date), and ml.rule_actions; re-running a date replaces its rows. A bad
    rule stops the command before anything runs, naming the rule. docs/CHURN.md has the
    model.
    """
    from models_ml.churn import run_customer_intelligence
    from models_ml.rules import RuleError

    settings = _settings(db_path=db)
    _setup_logging(settings.log_level)
    with (
        _writing(settings.db_path, "wmsight customers"),
        console.status("scoring customers …"),
    ):
        try:
            result = run_customer_intelligence(
                settings.db_path,
                as_of=_as_of(as_of),
                rules_path=rules,
            )
        except RuleError as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(code=1) from error
    console.print(f"{result.summary()} in {result.seconds:.1f} s")


@app.command()
def run(
    extracts: ExtractsOption = None,
    db: DbOption = None,
    feeds: FeedsOption = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Run date (default: the latest drop's date). Drops dated after it are not "
            "loaded: the run replays what was known then.",
        ),
    ] = None,
    csv: CsvOption = False,
    keep_runs: KeepRunsOption = None,
) -> None:
    """Run the whole pipeline: every stage that exists, in order, with a closing summary.

    Exits non-zero naming the failing stage and its message.
    """
    from wmsight.stages import PIPELINE

    settings = _settings(extracts_dir=extracts, db_path=db, feeds_dir=feeds)
    _setup_logging(settings.log_level)
    context = RunContext(
        settings.extracts_dir,
        settings.db_path,
        settings.feeds_dir,
        _as_of(as_of),
        csv=csv,
        keep_runs=keep_runs or settings.feeds_keep_runs,
        ingest_workers=settings.ingest_workers,
        drops_up_to=_as_of(as_of),
        forecast=settings.forecast,
        plan=settings.plan,
    )
    status = console.status("")
    status.start()

    def on_start(stage: Stage) -> None:
        status.update(f"[bold]{stage.name}[/bold]: {stage.description} …")

    def on_done(report: StageReport) -> None:
        mark = {"ok": "[green]✓[/green]", "skipped": "[yellow]–[/yellow]"}.get(
            report.status, "[red]✗[/red]"
        )
        text = report.outcome.summary if report.outcome else report.error
        console.print(f"{mark} {report.name} ({report.seconds:.1f} s): {text}")

    try:
        with _writing(settings.db_path, "wmsight run"):
            report = run_stages(context, PIPELINE, on_start=on_start, on_done=on_done)
    finally:
        status.stop()
    table = Table(title="wmsight run")
    for column in ("stage", "status", "seconds", "summary"):
        table.add_column(column)
    for stage in report.stages:
        table.add_row(
            stage.name,
            stage.status,
            f"{stage.seconds:.1f}",
            stage.outcome.summary if stage.outcome else (stage.error or ""),
        )
    console.print(table)
    for stage in report.stages:
        for warning in stage.outcome.warnings if stage.outcome else []:
            console.print(f"[yellow]warning[/yellow] {stage.name}: {warning}")
    if report.failed:
        console.print(f"[red]failed at stage '{report.failed.name}': {report.failed.error}[/red]")
        raise typer.Exit(code=1)
    console.print(
        f"as of {report.as_of}   warehouse: {settings.db_path}   feeds: {settings.feeds_dir}"
    )


@app.command()
def publish(
    db: DbOption = None,
    feeds: FeedsOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Run date (default: the latest drop's date).")
    ] = None,
    csv: CsvOption = False,
    keep_runs: KeepRunsOption = None,
) -> None:
    """Validate the feeds against their contracts and publish them (atomically: `latest`
    moves only when every feed is written)."""
    from wmsight.publish import PublishError, publish_feeds

    settings = _settings(db_path=db, feeds_dir=feeds)
    _setup_logging(settings.log_level)
    try:
        with _writing(settings.db_path, "wmsight publish"):
            result = publish_feeds(
                settings.db_path,
                settings.feeds_dir,
                as_of=_as_of(as_of),
                csv=csv,
                keep_runs=keep_runs or settings.feeds_keep_runs,
            )
    except PublishError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(code=1) from error
    table = Table(title=f"feeds {result.as_of} → {result.folder}")
    for column in ("feed", "status", "rows", "note"):
        table.add_column(column)
    for outcome in result.feeds:
        table.add_row(outcome.feed, outcome.status, f"{outcome.rows:,}", outcome.note)
    console.print(table)


@app.command()
def simulate(
    db: DbOption = None,
    weeks: Annotated[int, typer.Option(help="Weeks of actual demand measured.")] = 26,
    warmup_weeks: Annotated[
        int, typer.Option("--warmup-weeks", help="Weeks replayed before them, not measured.")
    ] = 26,
) -> None:
    """Replay the last WEEKS weeks of actual demand day by day through the replenishment plan
    and two baselines (the ERP reorder rule and a static min/max from last year's averages).

    Prints fill rate, stockout days, average inventory value and orders per warehouse and
    overall, and writes them to ml.simulation_results.
    """
    from models_ml.simulate import SimConfig, run_simulation

    settings = _settings(db_path=db)
    _setup_logging(settings.log_level)
    with (
        _writing(settings.db_path, "wmsight simulate"),
        console.status(f"replaying {warmup_weeks} + {weeks} weeks …"),
    ):
        result = run_simulation(
            settings.db_path,
            SimConfig(weeks=weeks, warmup_weeks=warmup_weeks, plan=settings.plan),
        )
    table = Table(title=f"replenishment backtest {result.start} – {result.end}")
    columns = {
        "policy": "policy",
        "warehouse_id": "warehouse",
        "fill_rate": "fill rate",
        "stockout_days": "stockout days",
        "avg_inventory_value_cny": "avg inventory (CNY)",
        "order_lines": "orders",
        "transfers": "transfers",
    }
    for title in columns.values():
        table.add_column(title, justify="left" if title in ("policy", "warehouse") else "right")
    for row in result.results.sort("warehouse_id", "policy").iter_rows(named=True):
        table.add_row(
            row["policy"],
            row["warehouse_id"],
            f"{row['fill_rate']:.2%}",
            f"{row['stockout_days']:,}",
            f"{row['avg_inventory_value_cny']:,.0f}",
            f"{row['order_lines']:,}",
            f"{row['transfers']:,}",
            end_section=row["warehouse_id"] != "ALL" and row["policy"] == "static_minmax",
        )
    console.print(table)
    for row in result.classes.iter_rows(named=True):
        if row["fill_rate"] is not None:
            console.print(
                f"plan, ABC class {row['abc_class']}: fill rate {row['fill_rate']:.2%} "
                f"(target {row['service_level_target']:.2%}, {row['cells']} cells)"
            )
    console.print(result.verdict())
    console.print(f"plan settings: {settings.plan.describe()}", highlight=False)
    console.print(f"{result.seconds:.1f} s; results in ml.simulation_results")


def _setting_lines(model: BaseModel, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Every leaf of the settings, nested ones included, as the .env line that would set
    it, with whether it was given or is the default. An unset optional value and a secret
    are commented out: copied into a .env, neither line may set anything."""
    for name in type(model).model_fields:
        value, where = getattr(model, name), (*path, name)
        if isinstance(value, BaseModel):
            yield from _setting_lines(value, where)
            continue
        source = "given" if name in model.model_fields_set else "default"
        variable = _environment_name(where)
        if value is None:
            yield f"# {variable}=  # {source}: none"
        elif isinstance(value, SecretStr):
            yield f"# {variable}={value}  # {source} (a secret, not shown)"
        elif isinstance(value, dict | tuple | list):
            yield f"{variable}='{json.dumps(value, ensure_ascii=False)}'  # {source}"
        else:
            yield f"{variable}={value}  # {source}"


@app.command("settings")
def show_settings() -> None:
    """Print every setting in force as the WMSIGHT_* line (environment or .env) that sets
    it, and whether it was given or is the default. Secrets are not shown.

    To check a deployment's configuration before a run; a bad value exits naming it."""
    settings = _settings()
    # plain lines, never wrapped: they can be copied into a .env as they are
    typer.echo("\n".join(_setting_lines(settings)))


@app.command()
def dashboard(
    feeds: FeedsOption = None,
    db: DbOption = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    address: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0: reachable from other machines).")
    ] = "localhost",
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open a browser tab on start.")
    ] = True,
) -> None:
    """Serve the dashboard (Streamlit) on the latest published feeds: KPIs, customers,
    churn alerts, replenishment review, forecast accuracy, data quality.

    It reads only the published feeds, so it runs beside a pipeline run and is never
    blocked by it. Planners' decisions are stored beside the warehouse (--db) and
    published as the approved_purchase_orders and approved_transfers feeds. Logging in
    (users: WMSIGHT_DASHBOARD_USERS, default the demo users) is needed to change anything.
    """
    import sys

    import dashboards

    app_file = str(Path(dashboards.__file__).with_name("app.py"))  # not imported: it renders

    settings = _settings(db_path=db, feeds_dir=feeds)
    environment = os.environ | {
        "WMSIGHT_FEEDS_DIR": str(settings.feeds_dir.resolve()),
        "WMSIGHT_DB_PATH": str(settings.db_path.resolve()),
    }
    command = [
        sys.executable, "-m", "streamlit", "run", app_file,
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "false" if open_browser else "true",
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
    ]  # fmt: skip
    console.print(
        f"dashboard on http://{address}:{port} (feeds {settings.feeds_dir}, "
        f"decisions beside {settings.db_path}); Ctrl-C stops it"
    )
    sys.stdout.flush()
    # become the server (not its parent): a service manager's SIGTERM then stops streamlit
    # itself; a parent that died of it left the server running, orphaned
    os.execve(sys.executable, command, environment)


if __name__ == "__main__":
    app()
