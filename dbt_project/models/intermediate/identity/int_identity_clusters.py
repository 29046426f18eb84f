"""Source records grouped into customers: connected components over every accepted link
(deterministic and probabilistic), with Splink's clustering in an in-memory DuckDB."""

import duckdb
from splink import DuckDBAPI
from splink.clustering import cluster_pairwise_predictions_at_threshold


def cluster(records, links):
    """record_key -> cluster_id for every record (a record without links is its own
    cluster). `records` has record_key; `links` has record_key_l, record_key_r."""
    con = duckdb.connect(":memory:")
    con.execute("set threads = 1")
    con.register("records", records)
    con.register("links", links)
    clusters = cluster_pairwise_predictions_at_threshold(
        nodes=con.sql("select record_key from records").to_arrow_table(),
        edges=con.sql("select record_key_l, record_key_r from links").to_arrow_table(),
        db_api=DuckDBAPI(connection=con),
        node_id_column_name="record_key",
        edge_id_column_name_left="record_key_l",
        edge_id_column_name_right="record_key_r",
    )
    return con.sql(f"""
        select record_key, cluster_id
        from {clusters.physical_name}
        order by record_key
    """).to_arrow_table()


def model(dbt, session):
    dbt.config(materialized="table")
    records = dbt.ref("int_customer_source_records").to_arrow_table()
    deterministic = dbt.ref("int_identity_links__deterministic").to_arrow_table()
    probabilistic = dbt.ref("int_identity_links__probabilistic").to_arrow_table()
    con = duckdb.connect(":memory:")
    con.register("deterministic", deterministic)
    con.register("probabilistic", probabilistic)
    links = con.sql("""
        select record_key_l, record_key_r from deterministic
        union
        select record_key_l, record_key_r from probabilistic
    """).to_arrow_table()
    return cluster(records, links)
