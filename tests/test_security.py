"""Hostile values (issue 9): what users, rule files and extracts put into wmsight reaches SQL
only as a parameter or a quoted identifier, no file name leads out of its root folder,
and credentials in the environment never reach logs, the warehouse or the feeds.

Every test feeds the real component (DuckDB file, rules engine, ingest, publisher, CLI)
values written to break a naive implementation, then checks both that the value was
taken literally and that nothing else changed.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest
from conftest import query
from extract_builder import csv_text, good, good_order, write_csv, write_file, write_orders
from typer.testing import CliRunner

from ingest.load import ingest_extracts
from models_ml.replenishment import run_replenishment
from models_ml.rules import RuleError, evaluate_rules, parse_rules
from wmsight.cli import app
from wmsight.publish import LATEST, publish_feeds

DROP = "2025-03-01"
# Text that ends a quoted SQL string or identifier and appends a statement of its own.
HOSTILE_TEXT = [
    "x' OR '1'='1",
    "'; DROP TABLE marts.dim_customer; --",
    'a"; DROP TABLE raw.load_log; --',
    "back\\slash' || (SELECT 1) || '",
    "美元'); DELETE FROM marts.customer_segments; --",
]


def tables_of(db_path: Path) -> dict[str, int]:
    """Every table with its row count: a dropped or emptied table shows here."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        names = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
        return {n: con.execute(f"SELECT count(*) FROM {n}").fetchall()[0][0] for (n,) in names}


# ---------------------------------------------------------------------------------------
# Rule files


def rules_warehouse(db_path: Path) -> Path:
    """The marts the rule engine reads (its input interface), one customer per hostile
    text: the text is the customer's tier and province."""
    with duckdb.connect(str(db_path)) as con:
        con.execute("CREATE SCHEMA marts")
        customers = [(f"cust_{i}", text) for i, text in enumerate(HOSTILE_TEXT)]
        customers.append(("cust_plain", "small"))
        con.execute(
            """CREATE TABLE marts.customer_segments (customer_key VARCHAR, tier VARCHAR,
            value_class VARCHAR, rfm_segment VARCHAR, revenue_12m_cny DECIMAL(18, 4),
            orders_12m BIGINT, last_order_at TIMESTAMP)"""
        )
        con.execute(
            "CREATE TABLE marts.dim_customer (customer_key VARCHAR, province VARCHAR, "
            "region VARCHAR)"
        )
        con.execute(
            """CREATE TABLE marts.fct_order_lines (customer_key VARCHAR, order_id VARCHAR,
            channel VARCHAR, platform VARCHAR, warehouse_id VARCHAR,
            line_amount_cny DECIMAL(18, 4), ordered_qty BIGINT, is_cancelled BOOLEAN,
            ordered_at TIMESTAMP, is_invoice_paid_late BOOLEAN)"""
        )
        for key, text in customers:
            con.execute(
                "INSERT INTO marts.customer_segments VALUES "
                "(?, ?, 'small', 'Lost', 100, 1, '2025-02-01')",
                [key, text],
            )
            con.execute("INSERT INTO marts.dim_customer VALUES (?, ?, '华东')", [key, text])
            con.execute(
                "INSERT INTO marts.fct_order_lines VALUES "
                "(?, ?, 'b2b', NULL, ?, 200000, 3, false, '2025-02-20 10:00:00', false)",
                [key, f"SO-{key}", text],
            )
    return db_path


def quoted(text: str) -> str:
    """`text` as a rule file writes a text value: in single quotes, ' and \\ escaped."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def test_rule_values_reach_sql_as_parameters(tmp_path: Path) -> None:
    db = rules_warehouse(tmp_path / "w.duckdb")
    before = tables_of(db)
    rules = []
    for i, text in enumerate(HOSTILE_TEXT):
        rules += [
            {"id": f"tier_{i}", "when": f"customer.tier == {quoted(text)}", "then": "flag"},
            {
                "id": f"province_{i}",
                "when": f"customer.province != 'x' and customer.province == {quoted(text)}",
                "then": "flag",
            },
            {
                "id": f"warehouse_{i}",
                "when": f"order.warehouse_id == {quoted(text)}",
                "then": "flag",
            },
        ]
    with duckdb.connect(str(db)) as con:
        actions = evaluate_rules(con, parse_rules(json.dumps(rules)), date(2025, 3, 1))
    fired = set(actions.select("rule_id", "customer_key").iter_rows())
    # each value matched its own customer, literally, and nothing else
    assert fired == {
        (f"{kind}_{i}", f"cust_{i}")
        for i in range(len(HOSTILE_TEXT))
        for kind in ("tier", "province", "warehouse")
    }
    assert tables_of(db) == before


@pytest.mark.parametrize(
    "rule, problem",
    [
        ({"when": "customer.tier == 'a' OR 1=1"}, "syntax error"),
        ({"when": "customer.tier == 'a'; DROP TABLE marts.dim_customer"}, "syntax error"),
        ({"when": "customer.tier == 'a' -- comment"}, "syntax error"),
        ({"when": "customer.tier == a' OR '1'='1"}, "syntax error"),
        ({"when": "c.tier == 'a'"}, "unknown field 'c.tier'"),
        ({"when": "customer.tier) OR (true == true"}, "syntax error"),
        ({"when": "(SELECT 1) == 1"}, "unknown field 'SELECT'"),
        ({"when": "customer.tier == 'a' UNION SELECT 1"}, "syntax error"),
        ({"when": "customer.orders_12m > 1e400"}, "syntax error"),
        ({"when": "customer.orders_12m > '1 OR 1=1'"}, "wrong type"),
        ({"id": "x'; DROP TABLE ml.rule_actions; --"}, "id: lower-case letters"),
        ({"then": "flag'); DROP TABLE ml.rule_actions; --"}, "then: an action name"),
    ],
)
def test_rule_text_that_is_not_a_value_is_refused_naming_the_rule(rule: dict, problem: str) -> None:
    entry = {"id": "probe", "when": "customer.orders_12m > 1", "then": "flag"} | rule
    with pytest.raises(RuleError, match="^rule .*" + problem.replace("(", r"\(")) as error:
        parse_rules(json.dumps([entry]))
    assert error.value.rule_id in (entry["id"], "probe")


def test_a_hostile_rule_file_stops_the_command_before_the_warehouse_is_opened(
    tmp_path: Path,
) -> None:
    db = rules_warehouse(tmp_path / "w.duckdb")
    before = tables_of(db)
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "- id: fine\n  when: customer.orders_12m > 1\n  then: flag\n"
        "- id: evil\n  when: \"customer.tier == 'a'; DROP TABLE marts.dim_customer\"\n"
        "  then: flag\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["customers", "--db", str(db), "--rules", str(rules)])
    assert result.exit_code == 1
    assert "rule 'evil': syntax error" in " ".join(result.output.split())
    assert tables_of(db) == before


@pytest.mark.parametrize("tier", HOSTILE_TEXT + ["high_value') OR true OR ('"])
def test_plan_tier_names_reach_sql_as_parameters(tmp_path: Path, tier: str) -> None:
    from test_replenishment import TEXTBOOK, _known_world

    db = tmp_path / "w.duckdb"
    _known_world(db)  # W1's units: 80 % bought by high-value C1; W3 has no such buyers
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE marts.customer_segments SET tier = ? WHERE customer_key = 'C1'", [tier])
    marts = {k: v for k, v in tables_of(db).items() if k.startswith("marts.")}

    def targets(*tiers: str) -> dict[str, float]:
        config = TEXTBOOK.model_copy(update={"high_value_tiers": tiers})
        plan = run_replenishment(db, config=config).plan.filter(pl.col("sku") == "S1")
        return dict(plan.select("warehouse_id", "service_level_target").iter_rows())

    # the tier name matches C1's tier literally: W1 is served at the high-value level
    assert targets(tier) == {"W1": 0.99, "W2": 0.95, "W3": 0.98}
    # text around it changes nothing: no tier matches, no warehouse is raised
    assert targets(tier + "'", "'" + tier, tier + " ") == {"W1": 0.95, "W2": 0.95, "W3": 0.98}
    assert {k: v for k, v in tables_of(db).items() if k.startswith("marts.")} == marts


# ---------------------------------------------------------------------------------------
# Extract content: header names and values are data, never SQL


def test_hostile_header_names_and_values_in_extracts_are_kept_verbatim(tmp_path: Path) -> None:
    extracts = tmp_path / "extracts"
    source_file = "erp/warehouses.csv"
    header = [*good(source_file)] + HOSTILE_TEXT[:3]
    rows = [
        good(source_file, name=text, **{column: text for column in HOSTILE_TEXT[:3]})
        | {"warehouse_id": f"WH-{i}"}
        for i, text in enumerate(HOSTILE_TEXT)
    ]
    write_file(extracts, DROP, source_file, csv_text(source_file, rows, header=header))
    write_orders(
        extracts,
        DROP,
        [
            good_order(order_id=f"TM{i}", **{text: text, "status": "paid"})
            for i, text in enumerate(HOSTILE_TEXT)
        ],
    )
    db = tmp_path / "w.duckdb"
    result = ingest_extracts(extracts, db)
    assert result.rows_loaded == 2 * len(HOSTILE_TEXT)
    stored = query(db, "SELECT name, _extra FROM raw.erp__warehouses ORDER BY _line")
    assert [name for name, _ in stored] == HOSTILE_TEXT
    for (_, extra), text in zip(stored, HOSTILE_TEXT, strict=True):
        assert json.loads(extra) == {column: text for column in HOSTILE_TEXT[:3]}
    orders = query(db, "SELECT _extra FROM raw.ecommerce__orders ORDER BY _line")
    for (extra,), text in zip(orders, HOSTILE_TEXT, strict=True):
        assert json.loads(extra)[text] == text
    notes = query(db, "SELECT message FROM raw.load_log WHERE source_file = ?", [source_file])
    assert all(text in notes[0][0] for text in HOSTILE_TEXT[:3])  # named in the load log
    assert set(tables_of(db)) >= {"raw.load_log", "raw.quarantine", "raw.erp__warehouses"}


# ---------------------------------------------------------------------------------------
# Paths: nothing leads out of the drop, the extracts or the feeds folder


SECRET_LINE = "crm_id,company_name\nCRM-SECRET,password=hunter2-do-not-load\n"


def everything_stored(db_path: Path) -> str:
    """Every text value in the warehouse, as one string to search."""
    texts = []
    with duckdb.connect(str(db_path), read_only=True) as con:
        for schema, table, column in con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type IN ('VARCHAR', 'JSON')"
        ).fetchall():
            texts += [
                str(v)
                for (v,) in con.execute(f'SELECT "{column}" FROM "{schema}"."{table}"').fetchall()
            ]
    return "\n".join(texts)


def test_a_file_linked_out_of_its_drop_is_rejected_unread(tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere" / "customers.csv"
    secret.parent.mkdir()
    secret.write_text(SECRET_LINE + csv_text("crm/customers.csv", [good("crm/customers.csv")]))
    extracts = tmp_path / "extracts"
    write_csv(extracts, DROP, "erp/products.csv", [good("erp/products.csv")])
    (extracts / DROP / "crm").mkdir()
    (extracts / DROP / "crm" / "customers.csv").symlink_to(secret)  # absolute link
    (extracts / DROP / "crm" / "feedback.csv").symlink_to("../../../elsewhere/customers.csv")
    # a link that stays inside the drop is an ordinary file
    (extracts / DROP / "erp" / "warehouses.csv").write_text(
        csv_text("erp/warehouses.csv", [good("erp/warehouses.csv")])
    )
    (extracts / DROP / "erp" / "sales_orders.csv").symlink_to("../erp/warehouses.csv")
    db = tmp_path / "w.duckdb"
    result = ingest_extracts(extracts, db)
    status = {f.source_file: (f.status, f.message) for f in result.files}
    for linked in ("crm/customers.csv", "crm/feedback.csv"):
        assert status[linked] == (
            "rejected",
            f"{linked}: a symbolic link to a file outside the drop folder; not read",
        )
    assert status["erp/products.csv"][0] == "loaded"
    assert status["erp/sales_orders.csv"][0] == "rejected"  # read: a warehouses header
    assert "the header has: warehouse_id" in status["erp/sales_orders.csv"][1]
    assert "hunter2" not in everything_stored(db) and "CRM-SECRET" not in everything_stored(db)
    # the same again: still rejected, nothing read, nothing changed
    again = ingest_extracts(extracts, db)
    assert {f.status for f in again.files} == {"unchanged"}


def test_only_date_named_folders_are_drops_and_a_linked_drop_folder_loads(tmp_path: Path) -> None:
    outside = tmp_path / "staging" / DROP
    write_csv(outside.parent, DROP, "erp/products.csv", [good("erp/products.csv")])
    extracts = tmp_path / "extracts"
    extracts.mkdir()
    (extracts / DROP).symlink_to(outside, target_is_directory=True)  # an operator's link
    for name in ("..2025-03-02", "2025-03-02 ", "2025-13-01", "latest"):
        write_csv(extracts, name, "erp/products.csv", [good("erp/products.csv", sku="SKU-X")])
    result = ingest_extracts(extracts, tmp_path / "w.duckdb")
    assert result.drops == [date(2025, 3, 1)]
    assert query(tmp_path / "w.duckdb", "SELECT sku FROM raw.erp__products") == [("SKU-1",)]


@pytest.mark.parametrize(
    "as_of", ["../../outside", "/tmp/outside", "2025-11-30/../../x", "2025-02-30", "latest"]
)
def test_an_as_of_date_that_is_not_a_date_is_refused_before_anything_is_written(
    tmp_path: Path, as_of: str
) -> None:
    feeds = tmp_path / "root" / "feeds"
    db = tmp_path / "root" / "w.duckdb"
    for command in (
        ["publish", "--db", str(db), "--feeds", str(feeds), "--as-of", as_of],
        ["run", "--extracts", str(tmp_path), "--db", str(db), "--feeds", str(feeds)]
        + ["--as-of", as_of],
    ):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "not a date (YYYY-MM-DD)" in " ".join(result.output.split())
    assert not feeds.exists() and not db.exists()
    assert not (tmp_path / "outside").exists()


def test_published_files_stay_under_the_feeds_root(tmp_path: Path) -> None:
    from test_publish import make_warehouse

    db = make_warehouse(tmp_path / "w.duckdb")
    feeds = tmp_path / 'fe\'eds "1"; --'  # quotes in a configured path: still a path
    result = publish_feeds(db, feeds, csv=True)
    assert {"customer_360.csv", "kpi_daily.csv"} <= {p.name for p in result.folder.iterdir()}
    root = feeds.resolve()
    written = [p for p in feeds.rglob("*") if p.is_file() or p.is_symlink()]
    assert written and all(p.resolve().is_relative_to(root) for p in written)
    assert (feeds / LATEST).resolve() == result.folder.resolve()
    assert os.readlink(feeds / LATEST) == result.as_of.isoformat()


# ---------------------------------------------------------------------------------------
# Credentials


def test_credentials_in_the_environment_never_reach_logs_warehouse_or_feeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_publish import make_warehouse

    secrets = {
        "WMSIGHT_DB_PASSWORD": "pw-env-6b1f0c",
        "WMSIGHT_DASHBOARD_COOKIE_KEY": "cookie-env-93ad2e",
        "AWS_SECRET_ACCESS_KEY": "aws-env-5e77aa",
        "AIRFLOW_CONN_WAREHOUSE": "duckdb://user:pw-conn-0d4c11@host/x",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WMSIGHT_LOG_LEVEL", "DEBUG")  # the most a user can ask to see
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("WMSIGHT_SMTP_PASSWORD=smtp-dotenv-41c2b9\n")
    secrets["WMSIGHT_SMTP_PASSWORD"] = "smtp-dotenv-41c2b9"

    extracts = tmp_path / "extracts"
    write_csv(extracts, DROP, "erp/products.csv", [good("erp/products.csv")])
    write_csv(extracts, DROP, "erp/warehouses.csv", [good("erp/warehouses.csv", name="")])
    ingested = tmp_path / "ingested.duckdb"
    db = make_warehouse(tmp_path / "w.duckdb")
    feeds = tmp_path / "feeds"
    runner = CliRunner()
    output = ""
    for command in (
        ["ingest", "--extracts", str(extracts), "--db", str(ingested)],
        ["publish", "--db", str(db), "--feeds", str(feeds), "--csv"],
        ["customers", "--db", str(tmp_path / "missing.duckdb"), "--rules", "nope.yaml"],
    ):
        result = runner.invoke(app, command)
        output += result.output + (str(result.exception) if result.exception else "")
    assert "quarantined" in output and "publishing" in output  # it did log
    # the one credential wmsight reads itself comes from the environment, and its settings
    # never show it (what a log line or a traceback of them would print)
    from wmsight.config import load_settings

    settings = load_settings()
    assert settings.dashboard_cookie_key.get_secret_value() == "cookie-env-93ad2e"
    output += repr(settings) + str(settings) + settings.model_dump_json()
    published = "\n".join(
        p.read_text(errors="replace")
        for p in feeds.rglob("*")
        if p.is_file() and p.suffix != ".parquet"
    ) + "\n".join(str(pq.read_table(p).to_pylist()) for p in feeds.rglob("*.parquet"))
    for name, value in secrets.items():
        assert value not in output, f"{name} printed"
        for warehouse in (ingested, db):
            assert value not in everything_stored(warehouse), f"{name} stored in {warehouse}"
        assert value not in published, f"{name} published"
