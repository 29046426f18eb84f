"""The command line as a user meets it: help, a run that works, a run that fails clearly."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from conftest import query
from extract_builder import DROP, good, good_order, write_csv, write_orders
from typer.testing import CliRunner

from wmsight.cli import app
from wmsight.config import Settings
from wmsight.runner import RunContext, Stage, StageOutcome, run_stages

runner = CliRunner()


def words(text: str) -> str:
    """Output with line wrapping undone (rich wraps at the terminal width)."""
    return " ".join(text.split())


def test_help_explains_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("generate", "ingest", "run"):
        assert command in result.output
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0 and "--" in sub.output


def test_run_ingests_and_summarises(extracts: Path, db_path: Path, tmp_path: Path) -> None:
    write_csv(
        extracts,
        DROP,
        "erp/products.csv",
        [good("erp/products.csv"), good("erp/products.csv", sku="SKU-2", status="gone")],
    )
    write_orders(extracts, DROP, [good_order()])
    # a drop after the asked as-of date: a replay of DROP does not load it
    write_csv(extracts, "2025-03-02", "erp/products.csv", [good("erp/products.csv", sku="SKU-3")])
    result = runner.invoke(
        app,
        [
            "run",
            "--extracts",
            str(extracts),
            "--db",
            str(db_path),
            "--feeds",
            str(tmp_path / "feeds"),
            "--as-of",
            DROP,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ingest" in result.output and "1 quarantined" in words(result.output)
    assert query(db_path, "SELECT count(*) FROM raw.erp__products") == [(1,)]
    assert "1 drop(s) after 2025-03-01 not loaded (2025-03-02)" in words(result.output)


def test_run_fails_with_the_stage_and_reason(tmp_path: Path, db_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "run",
            "--extracts",
            str(tmp_path / "nowhere"),
            "--db",
            str(db_path),
            "--feeds",
            str(tmp_path / "feeds"),
        ],
    )
    assert result.exit_code == 1
    assert "failed at stage 'ingest'" in words(result.output) and "nowhere" in result.output
    # bad input, not a defect: the message is the whole story, without a traceback
    assert "Traceback" not in result.output


def test_ingest_command_reports_per_file(extracts: Path, db_path: Path) -> None:
    write_csv(extracts, DROP, "erp/products.csv", [good("erp/products.csv")])
    result = runner.invoke(app, ["ingest", "--extracts", str(extracts), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "erp/products.csv" in result.output and "1 rows loaded" in words(result.output)
    again = runner.invoke(app, ["ingest", "--extracts", str(extracts), "--db", str(db_path)])
    assert "1 file(s) already loaded" in words(again.output)


def test_environment_variables_configure_paths(extracts: Path, db_path: Path, monkeypatch) -> None:
    write_csv(extracts, DROP, "erp/products.csv", [good("erp/products.csv")])
    monkeypatch.setenv("WMSIGHT_EXTRACTS_DIR", str(extracts))
    monkeypatch.setenv("WMSIGHT_DB_PATH", str(db_path))
    assert runner.invoke(app, ["ingest"]).exit_code == 0
    assert query(db_path, "SELECT count(*) FROM raw.erp__products") == [(1,)]


def test_a_bad_setting_exits_naming_it_without_a_traceback(
    extracts: Path, db_path: Path, monkeypatch
) -> None:
    write_csv(extracts, DROP, "erp/products.csv", [good("erp/products.csv")])
    args = ["ingest", "--extracts", str(extracts), "--db", str(db_path)]
    monkeypatch.setenv("WMSIGHT_INGEST_WORKERS", "0")
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "WMSIGHT_INGEST_WORKERS" in words(result.output)
    assert "greater than or equal to 1" in words(result.output)
    assert "Traceback" not in result.output and not db_path.exists()
    monkeypatch.setenv("WMSIGHT_INGEST_WORKERS", "[/red]")  # shown as written, not as markup
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "'[/red]'" in result.output
    monkeypatch.setenv("WMSIGHT_INGEST_WORKERS", "1")  # one file at a time
    assert runner.invoke(app, args).exit_code == 0
    assert query(db_path, "SELECT count(*) FROM raw.erp__products") == [(1,)]


def test_settings_lists_every_value_as_the_line_that_sets_it(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WMSIGHT_PLAN__ORDER_COST_CNY", "80")
    monkeypatch.setenv("WMSIGHT_FORECAST__HORIZON_DAYS", "28")
    monkeypatch.setenv("WMSIGHT_DASHBOARD_COOKIE_KEY", "do-not-print-me")
    result = runner.invoke(app, ["settings"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "WMSIGHT_PLAN__ORDER_COST_CNY=80.0  # given" in lines
    assert "WMSIGHT_FORECAST__HORIZON_DAYS=28  # given" in lines
    assert "WMSIGHT_PLAN__HOLDING_RATE=0.25  # default" in lines
    assert """WMSIGHT_PLAN__SERVICE_LEVELS='{"A": 0.98, "B": 0.95, "C": 0.9}'  # default""" in lines
    assert "# WMSIGHT_PLAN__ORDER_SIZE_COVER_MAX_DAYS=  # default: none" in lines
    assert "# WMSIGHT_DASHBOARD_COOKIE_KEY=**********  # given (a secret, not shown)" in lines
    assert "do-not-print-me" not in result.output
    # every plan and forecast setting is listed, each once
    variables = [line.lstrip("# ").split("=")[0] for line in lines]
    assert len(variables) == len(set(variables)) > 40
    # the lines are a .env: read back alone, they give the same settings
    given = Settings()
    (tmp_path / "settings.env").write_text(result.output, encoding="utf-8")
    for name in ("WMSIGHT_PLAN__ORDER_COST_CNY", "WMSIGHT_FORECAST__HORIZON_DAYS"):
        monkeypatch.delenv(name)
    read_back = Settings(_env_file=tmp_path / "settings.env")
    assert read_back.model_dump(exclude={"dashboard_cookie_key"}) == given.model_dump(
        exclude={"dashboard_cookie_key"}
    )
    # a bad value is named, as by every other command
    monkeypatch.setenv("WMSIGHT_FORECAST__INTERVAL", "80")
    result = runner.invoke(app, ["settings"])
    assert result.exit_code == 2 and "WMSIGHT_FORECAST__INTERVAL" in result.output


def test_runner_stops_at_the_first_failing_stage(tmp_path: Path) -> None:
    ran = []

    def fine(context: RunContext) -> StageOutcome:
        ran.append("fine")
        return StageOutcome("ok")

    def broken(context: RunContext) -> StageOutcome:
        raise ValueError("the disk is full")

    context = RunContext(tmp_path, tmp_path / "db", tmp_path / "feeds")
    report = run_stages(
        context, [Stage("a", "", fine), Stage("b", "", broken), Stage("c", "", fine)]
    )
    assert ran == ["fine"]
    assert [s.status for s in report.stages] == ["ok", "failed"]
    assert report.failed.name == "b" and "the disk is full" in report.failed.error


def test_runner_logs_a_traceback_for_a_defect_but_not_for_an_expected_error(
    tmp_path: Path, caplog
) -> None:
    def bad_input(context: RunContext) -> StageOutcome:
        raise LookupError("extracts folder /nowhere does not exist")

    def defect(context: RunContext) -> StageOutcome:
        raise ZeroDivisionError("division by zero")

    context = RunContext(tmp_path, tmp_path / "db", tmp_path / "feeds")
    with caplog.at_level("INFO", logger="wmsight.runner"):
        run_stages(context, [Stage("a", "", bad_input, expected_errors=(LookupError,))])
        run_stages(context, [Stage("b", "", defect, expected_errors=(LookupError,))])
    failures = {r.message: r.exc_info is not None for r in caplog.records if r.levelname == "ERROR"}
    assert failures == {
        "stage a failed: extracts folder /nowhere does not exist": False,
        "stage b failed": True,
    }


def test_every_stage_after_ingest_runs_as_of_the_drop_it_just_loaded(
    extracts: Path, db_path: Path, tmp_path: Path
) -> None:
    from wmsight.stages import ingest_stage

    seen = []

    def record(context: RunContext) -> StageOutcome:
        seen.append(context.as_of.isoformat())
        return StageOutcome("ok")

    stages = [Stage("ingest", "", ingest_stage), Stage("after", "", record)]
    context = RunContext(extracts, db_path, tmp_path / "feeds")
    later = (date.fromisoformat(DROP) + timedelta(days=1)).isoformat()
    write_csv(extracts, DROP, "erp/products.csv", [good("erp/products.csv")])
    run_stages(context, stages)
    # the next day's run: the warehouse already holds yesterday's drop when it starts
    write_csv(extracts, later, "erp/products.csv", [good("erp/products.csv", sku="SKU-2")])
    report = run_stages(context, stages)
    assert seen == [DROP, later]
    assert report.as_of.isoformat() == later
