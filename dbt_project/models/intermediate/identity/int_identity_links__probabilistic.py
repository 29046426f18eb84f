"""Probable links between source records, scored by the stored Splink model
(int_identity_match_model, trained again only when due).

Splink works in its own in-memory DuckDB connection, so its working tables never land
in the warehouse; the warehouse only receives the accepted pairs. Every pair the
blocking rules find is scored again on each build, with term frequencies from today's
records: scoring is cheap (a few seconds at scale 10) and each pair's score is computed
on its own, so it does not depend on the number of threads.
"""

import json
import logging

import duckdb
import pyarrow as pa
from splink import DuckDBAPI, Linker

LINKS_SCHEMA = pa.schema(
    [
        ("record_key_l", pa.string()),
        ("record_key_r", pa.string()),
        ("match_probability", pa.float64()),
        ("match_weight", pa.float64()),
    ]
)


def score_links(inputs: pa.Table, settings_json: str | None, *, threshold: float) -> pa.Table:
    """Pairs of records in `inputs` (int_identity_match_inputs) that the trained model
    `settings_json` scores at or above `threshold`: record_key_l < record_key_r,
    match_probability, match_weight. No model (fewer than two records when it was
    trained) scores nothing."""
    if settings_json is None or inputs.num_rows < 2:
        return LINKS_SCHEMA.empty_table()
    con = duckdb.connect(":memory:")
    con.register("inputs", inputs)
    con.execute("create table identity_records as select * from inputs order by unique_id")
    db_api = DuckDBAPI(connection=con)
    linker = Linker(
        db_api.register("identity_records"),
        json.loads(settings_json),
        log_level=logging.WARNING,
    )
    predictions = linker.inference.predict(
        threshold_match_probability=threshold, warning_mode="never"
    )
    return (
        con.sql(f"""
        select
            least(unique_id_l, unique_id_r) as record_key_l,
            greatest(unique_id_l, unique_id_r) as record_key_r,
            match_probability,
            match_weight
        from {predictions.physical_name}
        order by record_key_l, record_key_r
    """)
        .to_arrow_table()
        .cast(LINKS_SCHEMA)
    )


def model(dbt, session):
    dbt.config(materialized="table")
    [stored] = dbt.ref("int_identity_match_model").to_arrow_table().to_pylist()
    return score_links(
        dbt.ref("int_identity_match_inputs").to_arrow_table(),
        stored["settings_json"],
        threshold=float(dbt.config.get("match_probability_threshold")),
    )
