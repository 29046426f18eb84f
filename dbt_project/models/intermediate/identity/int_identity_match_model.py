"""The Splink (Fellegi-Sunter) model that scores pairs of source records, kept between
builds and trained again only when it is due.

Training is most of the cost of matching (at scale 10, 29 of 34 s: u by random
sampling, m by expectation maximisation), and a day's drop changes little of what the
model learns from millions of pairs. So the trained model is stored here, one row, and a
build trains again only when
- there is none yet, or the comparisons, blocking or training settings changed;
- the newest drop is `identity_model_retrain_days` or more after the one it was trained
  through (a weekly retrain, on the data's clock: replaying the same drops gives the
  same models);
- the number of records changed by `identity_model_retrain_growth` or more since (a big
  onboarding drop does not wait for the week).
`int_identity_links__probabilistic` scores every pair with the stored model each build
(term frequencies from the current records). Training runs on one thread with a fixed
seed, so the same records always give the same model. `--vars '{identity_model_retrain:
true}'` trains again whatever the schedule says.
"""

import datetime as dt
import hashlib
import itertools
import json
import logging
import time

import duckdb
import pyarrow as pa
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

# Bump when a change alters what training produces without changing the settings below:
# the training steps here, or what the features mean (int_identity_match_inputs and the
# normalisation before it). Every warehouse then trains again on its next build.
TRAINING_VERSION = 1

# How often one customer's records disagree, fixed rather than learned: in clean data EM
# drives these to ~0 (a true pair never seemed to disagree), which turns any disagreement
# into a veto and can underflow. People keep a second number or address, move, or ship
# elsewhere (to the office, to family); a company's registered address is not always where
# it takes deliveries; two business licences are two legal entities.
M_DIFFERENT_PHONE = 0.05
M_DIFFERENT_EMAIL = 0.05
M_SAME_PROVINCE_OTHER_CITY = 0.02
M_OTHER_PROVINCE = 0.01
M_SAME_CITY_OTHER_DISTRICT = 0.1
M_DIFFERENT_TAX_ID = 0.001


def _disagreement(m_probability: float) -> cll.ElseLevel:
    return cll.ElseLevel().configure(m_probability=m_probability, fix_m_probability=True)


def _null_level(condition: str, label: str) -> dict:
    return {"sql_condition": condition, "label_for_charts": label, "is_null_level": True}


def _exact_level(column: str, condition: str, label: str) -> dict:
    """Exact agreement on `column` when `condition` holds, with term-frequency adjustment
    (agreeing on 小王 says less than agreeing on 鑫盛供应链管理)."""
    return {
        "sql_condition": f"{column}_l = {column}_r and {condition}",
        "label_for_charts": label,
        "tf_adjustment_column": column,
        "tf_adjustment_weight": 1.0,
        # the base for the adjustment is this level's own u, not a plain exact-match level
        "disable_tf_exact_match_detection": True,
    }


def comparisons() -> list:
    # One comparison for names, so a nickname that is both the buyer's own name and its only
    # "company name" counts once. Agreement means different things for two legal names,
    # a legal name and a buyer's nickname (华通贸易), or two nicknames (小王): each kind of
    # agreement gets its own level, and so its own m and u.
    both_companies = "kind_l = 'company' and kind_r = 'company'"
    both_buyers = "kind_l = 'buyer' and kind_r = 'buyer'"
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            _null_level(
                "(name_core_l is null or name_core_r is null)"
                " and (contact_name_l is null or contact_name_r is null)",
                "no name on one side",
            ),
            _exact_level("name_core", both_companies, "same company name"),
            _exact_level(
                "name_core",
                f"not ({both_companies}) and not ({both_buyers})",
                "buyer nickname is the company name",
            ),
            _exact_level(
                "name_short",
                f"not ({both_companies}) and not ({both_buyers})",
                "buyer nickname is the company name without its place",
            ),
            _exact_level("name_core", both_buyers, "same nickname"),
            _exact_level("contact_name", "true", "nickname is the contact's name"),
            # 陈娜 and chenna_6954: one name, typed in characters on one side, pinyin on the other
            _exact_level(
                "name_spoken",
                "name_spoken_script_l <> name_spoken_script_r",
                "same name in characters and in pinyin",
            ),
            cll.ElseLevel(),
        ],
    )
    phone = cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[
            # a landline and a mobile are two lines of one customer, not a disagreement
            _null_level(
                "phone_kind_l is null or phone_kind_r is null or phone_kind_l <> phone_kind_r",
                "no phones of one kind",
            ),
            cll.ExactMatchLevel("phone", term_frequency_adjustments=True),
            {
                "sql_condition": "mobile_visible_digits_l = mobile_visible_digits_r",
                "label_for_charts": "same visible digits (masked mobile)",
            },
            _disagreement(M_DIFFERENT_PHONE),
        ],
    )
    email = cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email", term_frequency_adjustments=True),
            _disagreement(M_DIFFERENT_EMAIL),
        ],
    )
    location = cl.CustomComparison(
        output_column_name="location",
        comparison_levels=[
            _null_level(
                "(city_l is null or city_r is null) and (province_l is null or province_r is null)",
                "no place on one side",
            ),
            cll.ExactMatchLevel("city"),
            cll.ExactMatchLevel("province").configure(
                m_probability=M_SAME_PROVINCE_OTHER_CITY, fix_m_probability=True
            ),
            _disagreement(M_OTHER_PROVINCE),
        ],
    )
    # Within one city, the district: where a company is registered, where a buyer has
    # most parcels delivered (the CRM keeps none). Compared only within a city, so it
    # adds to the city's evidence instead of counting it twice.
    district = cl.CustomComparison(
        output_column_name="district",
        comparison_levels=[
            _null_level(
                "district_l is null or district_r is null or city_l is distinct from city_r",
                "no district on one side, or another city",
            ),
            cll.ExactMatchLevel("district"),
            _disagreement(M_SAME_CITY_OTHER_DISTRICT),
        ],
    )
    # two business licences are two legal entities, whatever their names
    tax_id = cl.CustomComparison(
        output_column_name="tax_id",
        comparison_levels=[
            cll.NullLevel("tax_id"),
            cll.ExactMatchLevel("tax_id"),
            _disagreement(M_DIFFERENT_TAX_ID),
        ],
    )
    return [name, phone, email, location, district, tax_id]


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=[
            block_on("name_core"),
            block_on("contact_name", "city"),
            block_on("name_spoken", "city"),
            block_on("phone"),
            block_on("mobile_visible_digits"),
            block_on("email"),
        ],
        additional_columns_to_retain=["kind"],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


# Links that admit (almost) no false positives: the prior is their count, scaled by recall.
PRIOR_RULE_COLUMNS = (("phone",), ("email", "city"))
PRIOR_RULES = [
    " and ".join(f"l.{column} = r.{column}" for column in columns) for columns in PRIOR_RULE_COLUMNS
]
# EM runs once per blocking column; a block with fewer pairs keeps Splink's starting m values.
EM_BLOCKING_COLUMNS = ("name_core", "mobile_visible_digits")
MIN_TRAINING_PAIRS = 20

MODEL_SCHEMA = pa.schema(
    [
        ("config_fingerprint", pa.string()),
        ("trained_through_drop", pa.date32()),
        ("trained_on_records", pa.int64()),
        ("settings_json", pa.string()),
    ]
)

log = logging.getLogger(__name__)


def config_fingerprint(*, seed: int, u_max_pairs: float, prior_recall: float) -> str:
    """What training depends on besides the records: a stored model trained under another
    fingerprint is not reused."""
    config = {
        "settings": settings().create_settings_dict(sql_dialect_str="duckdb"),
        "seed": seed,
        "u_max_pairs": u_max_pairs,
        "prior_recall": prior_recall,
        "prior_rules": PRIOR_RULES,
        "em_blocking_columns": EM_BLOCKING_COLUMNS,
        "min_training_pairs": MIN_TRAINING_PAIRS,
        "training_version": TRAINING_VERSION,
        # a model saved by one Splink may not load, or score the same, in another
        "splink": splink.__version__,
        "duckdb": duckdb.__version__,
    }
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _pair_count(con: duckdb.DuckDBPyConnection, columns: tuple[str, ...]) -> int:
    """Pairs of records that agree on every one of `columns` (none null), counted from the
    size of each group of equal values: a self-join would list them, and with an `or`
    between rules it becomes a nested loop over all n² pairs (30 s at scale 10)."""
    [(pairs,)] = con.execute(f"""
        select coalesce(sum(n * (n - 1) // 2), 0) from (
            select count(*) as n from identity_records
            where {" and ".join(f"{column} is not null" for column in columns)}
            group by {", ".join(columns)}
        )
    """).fetchall()
    return pairs


def _prior_rule_pairs(con: duckdb.DuckDBPyConnection) -> int:
    """Pairs that at least one prior rule links, each counted once (inclusion-exclusion
    over the rules' column sets), as Splink counts them for the prior."""
    total = 0
    for size in range(1, len(PRIOR_RULE_COLUMNS) + 1):
        for rules in itertools.combinations(PRIOR_RULE_COLUMNS, size):
            columns = tuple(dict.fromkeys(column for rule in rules for column in rule))
            total += (-1) ** (size + 1) * _pair_count(con, columns)
    return total


def train(inputs: pa.Table, *, seed: int, u_max_pairs: float, prior_recall: float) -> dict | None:
    """Splink's settings with trained parameters (save_model_to_json) for the records in
    `inputs` (int_identity_match_inputs), or None when there are fewer than two."""
    con = duckdb.connect(":memory:")
    con.execute("set threads = 1")  # one thread: sums in one order, same floats every run
    con.register("inputs", inputs)
    # a fixed row order: the seeded sample of pairs for u depends on it
    con.execute("create table identity_records as select * from inputs order by unique_id")
    [(n,)] = con.execute("select count(*) from identity_records").fetchall()
    if n < 2:
        return None
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register("identity_records"), settings(), log_level=logging.WARNING)
    # the prior from links that admit (almost) no false positives, scaled by their recall
    linked_pairs = _prior_rule_pairs(con)
    if linked_pairs > prior_recall * (n * (n - 1) // 2):
        # A handful of records that the rules mostly link (a first try: one customer in
        # three systems) would make a prior of 1 or more, which Splink refuses or cannot
        # score with; the deterministic links join them anyway, so Splink's default stays.
        log.info(
            "identity model: rules link %d pairs of %d records, too many to estimate a "
            "prior from; Splink's default prior kept",
            linked_pairs,
            n,
        )
    elif linked_pairs:
        linker.training.estimate_probability_two_random_records_match(
            PRIOR_RULES, recall=prior_recall
        )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    for column in EM_BLOCKING_COLUMNS:
        if _pair_count(con, (column,)) >= MIN_TRAINING_PAIRS:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(column))
    model = linker.misc.save_model_to_json()
    # a random id of this Linker's cache tables, not part of the model: without it the same
    # records give the same JSON
    model.pop("linker_uid", None)
    return model


def retrain_reason(
    stored: dict | None,
    *,
    fingerprint: str,
    newest_drop: dt.date | None,
    records: int,
    retrain_days: int,
    retrain_growth: float,
) -> str | None:
    """Why the stored model (a row of this table, or None) must be trained again, or None
    when it still serves."""
    if stored is None:
        return "no stored model (or a retrain was asked for)"
    if stored["config_fingerprint"] != fingerprint:
        return "the model's settings changed"
    trained_through = stored["trained_through_drop"]
    if newest_drop != trained_through and (
        newest_drop is None
        or trained_through is None
        # a newest drop before the one it was trained through: that drop was taken back
        or not 0 <= (newest_drop - trained_through).days < retrain_days
    ):
        return f"trained through drop {trained_through}, newest drop {newest_drop}"
    trained_on = stored["trained_on_records"]
    if abs(records - trained_on) >= retrain_growth * max(trained_on, 1):
        return f"trained on {trained_on} records, now {records}"
    return None


def newest_drop(dbt) -> dt.date | None:
    """The newest drop that delivered any customer record: the clock of the schedule."""
    # dbt parses ref() arguments as literals: one call per model
    sources = [
        dbt.ref("stg_crm__customers"),
        dbt.ref("stg_erp__customers"),
        dbt.ref("stg_ecommerce__orders"),
    ]
    latest = [source.aggregate("max(source_drop_date)").fetchall()[0][0] for source in sources]
    return max((day for day in latest if day is not None), default=None)


def last_stored(session: duckdb.DuckDBPyConnection, this) -> dict | None:
    """The row this model wrote last time, or None on a first build."""
    [(exists,)] = session.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [this.schema, this.identifier],
    ).fetchall()
    if not exists:
        return None
    rows = session.sql(f"select * from {this}").to_arrow_table().to_pylist()
    # a row written by an older version of this model, without today's columns, is no model
    return rows[0] if rows and set(MODEL_SCHEMA.names) <= set(rows[0]) else None


def model(dbt, session):
    # A table that reads its own last version: an incremental python model would stage its
    # rows in a table named by the time of the run, which a killed build leaves behind; a
    # table's staging name is fixed and the next build drops it.
    dbt.config(materialized="table")
    seed = int(dbt.config.get("splink_seed"))
    u_max_pairs = float(dbt.config.get("splink_u_max_pairs"))
    prior_recall = float(dbt.config.get("splink_prior_recall"))
    fingerprint = config_fingerprint(seed=seed, u_max_pairs=u_max_pairs, prior_recall=prior_recall)
    inputs = dbt.ref("int_identity_match_inputs")
    [(records,)] = inputs.aggregate("count(*)").fetchall()
    drop = newest_drop(dbt)
    # a var, not --full-refresh: config is rendered when dbt parses, and a parse is reused
    # by later runs whose flags differ
    retrain_now = str(dbt.config.get("retrain_now")).lower() in ("true", "1", "yes")
    stored = None if retrain_now else last_stored(session, dbt.this)
    reason = retrain_reason(
        stored,
        fingerprint=fingerprint,
        newest_drop=drop,
        records=records,
        retrain_days=int(dbt.config.get("retrain_days")),
        retrain_growth=float(dbt.config.get("retrain_growth")),
    )
    if reason is None:
        log.info(
            "identity model: reusing the one trained through drop %s on %d records",
            stored["trained_through_drop"],
            stored["trained_on_records"],
        )
        return pa.Table.from_pylist([stored], schema=MODEL_SCHEMA)
    started = time.perf_counter()
    trained = train(
        inputs.to_arrow_table(), seed=seed, u_max_pairs=u_max_pairs, prior_recall=prior_recall
    )
    log.info(
        "identity model: trained on %d records in %.1f s (%s)",
        records,
        time.perf_counter() - started,
        reason,
    )
    row = {
        "config_fingerprint": fingerprint,
        "trained_through_drop": drop,
        "trained_on_records": records,
        "settings_json": None if trained is None else json.dumps(trained, sort_keys=True),
    }
    return pa.Table.from_pylist([row], schema=MODEL_SCHEMA)
