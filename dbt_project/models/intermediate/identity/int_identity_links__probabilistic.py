"""Probable links between source records, scored by a Splink (Fellegi-Sunter) model.

Splink works in its own in-memory DuckDB connection, so its working tables never land
in the warehouse; the warehouse only receives the accepted pairs. The model is trained
afresh on every build from the records themselves (u by random sampling with a fixed
seed, m by expectation maximisation) on one thread, so the same inputs always give the
same links. The threshold, seed and sample size are dbt vars (dbt_project.yml).
"""

import logging

import duckdb
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

# What Splink sees of a record. Contact values that name a place rather than a customer
# (a shared switchboard, a role mailbox such as info@…) are withheld: they prove nothing.
RECORDS_SQL = """
select
    records.record_key as unique_id,
    case when records.source_system = 'ecommerce' then 'buyer' else 'company' end as kind,
    records.name_core,
    records.name_short,
    records.contact_name,
    names.name_spoken,
    names.name_spoken_script,
    case when not phone_is_shared then phone end as phone,
    case when not phone_is_shared then mobile_visible_digits end as mobile_visible_digits,
    case
        when phone_is_shared then null
        when mobile_visible_digits is not null then 'mobile'
        when phone is not null then 'landline'
    end as phone_kind,
    case when not (email_is_shared or email_is_role_mailbox) then email end as email,
    city,
    district,
    province,
    tax_id
from records
left join names using (record_key)
-- a fixed row order: the seeded sample of pairs for u depends on it
order by records.record_key
"""


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


def settings(*, diagnostics: bool = False) -> SettingsCreator:
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
        retain_matching_columns=diagnostics,
        retain_intermediate_calculation_columns=diagnostics,
    )


NO_LINKS_SQL = """
select
    cast(null as varchar) as record_key_l,
    cast(null as varchar) as record_key_r,
    cast(null as double) as match_probability,
    cast(null as double) as match_weight
limit 0
"""
PRIOR_RULES = ["l.phone = r.phone", "l.email = r.email and l.city = r.city"]
# EM needs pairs to learn from; a block with fewer keeps Splink's starting m values.
MIN_TRAINING_PAIRS = 20


def _pair_count(con: duckdb.DuckDBPyConnection, condition: str) -> int:
    [(pairs,)] = con.execute(f"""
        select count(*) from identity_records as l
        join identity_records as r on l.unique_id < r.unique_id and ({condition})
    """).fetchall()
    return pairs


def score_links(
    records, names, *, threshold: float, seed: int, u_max_pairs: float, prior_recall: float
):
    """Pairs of records (arrow tables of int_customer_source_records and
    int_customer_name_latin) at or above `threshold`, as an arrow table: record_key_l <
    record_key_r, match_probability, match_weight."""
    con = duckdb.connect(":memory:")
    con.execute("set threads = 1")  # one thread: sums in one order, same floats every run
    con.register("records", records)
    con.register("names", names)
    con.execute(f"create table identity_records as {RECORDS_SQL}")
    [(n,)] = con.execute("select count(*) from identity_records").fetchall()
    if n < 2:
        return con.sql(NO_LINKS_SQL).to_arrow_table()
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register("identity_records"), settings(), log_level=logging.WARNING)
    # the prior from links that admit (almost) no false positives, scaled by their recall
    if _pair_count(con, " or ".join(f"({rule})" for rule in PRIOR_RULES)):
        linker.training.estimate_probability_two_random_records_match(
            PRIOR_RULES, recall=prior_recall
        )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    for column in ("name_core", "mobile_visible_digits"):
        if _pair_count(con, f"l.{column} = r.{column}") >= MIN_TRAINING_PAIRS:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(column))
    predictions = linker.inference.predict(
        threshold_match_probability=threshold, warning_mode="never"
    )
    return con.sql(f"""
        select
            least(unique_id_l, unique_id_r) as record_key_l,
            greatest(unique_id_l, unique_id_r) as record_key_r,
            match_probability,
            match_weight
        from {predictions.physical_name}
        order by record_key_l, record_key_r
    """).to_arrow_table()


def model(dbt, session):
    dbt.config(materialized="table")
    return score_links(
        dbt.ref("int_customer_source_records").to_arrow_table(),
        dbt.ref("int_customer_name_latin").to_arrow_table(),
        threshold=float(dbt.config.get("match_probability_threshold")),
        seed=int(dbt.config.get("splink_seed")),
        u_max_pairs=float(dbt.config.get("splink_u_max_pairs")),
        prior_recall=float(dbt.config.get("splink_prior_recall")),
    )
