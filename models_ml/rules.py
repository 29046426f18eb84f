"""Business rules from a YAML file, applied to the customer and order marts: `rule_actions`.

A rule file is a list of rules:

    - id: vip_channel
      when: order.amount_cny > 100000
      then: enable_vip_channel
    - id: suspend_credit
      when: customer.late_payments_12m >= 2 and customer.tier != 'high_value'
      then: suspend_credit

`when` is a condition over the fields in `CUSTOMER_FIELDS` and `ORDER_FIELDS` with
comparisons (== != > >= < <=), `and`, `or`, `not` and parentheses; values are numbers,
'quoted text', true or false. Every rule is parsed and type-checked before anything
runs (`RuleError` names the rule and the problem), then compiled to DuckDB SQL from the
whitelisted column expressions below, with every value passed as a parameter — rule
text never reaches the SQL.

A customer rule is evaluated on every customer as of the run date; an order rule (any
`order.` field) on the orders of the last `order_window_days` days, and a customer
triggers it once (its latest matching order). Output, one row per customer × rule:
`ml.rule_actions` (customer_key, rule_id, action, reason, triggered_at). Without
`--rules` the shipped `models_ml/default_rules.yaml` runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import polars as pl
import yaml

# field -> (type, SQL expression over the evaluation row); the only names a rule can use
CUSTOMER_FIELDS: dict[str, tuple[str, str]] = {
    "customer.tier": ("text", "c.tier"),
    "customer.value_class": ("text", "c.value_class"),
    "customer.rfm_segment": ("text", "c.rfm_segment"),
    "customer.revenue_12m_cny": ("number", "c.revenue_12m_cny"),
    "customer.orders_12m": ("number", "c.orders_12m"),
    "customer.recency_days": ("number", "c.recency_days"),
    "customer.late_payments_12m": ("number", "c.late_payments_12m"),
    "customer.churn_probability": ("number", "c.churn_probability"),
    "customer.value_12m_cny": ("number", "c.value_12m_cny"),
    "customer.province": ("text", "c.province"),
    "customer.region": ("text", "c.region"),
}
ORDER_FIELDS: dict[str, tuple[str, str]] = {
    "order.amount_cny": ("number", "o.amount_cny"),
    "order.lines": ("number", "o.lines"),
    "order.units": ("number", "o.units"),
    "order.channel": ("text", "o.channel"),
    "order.platform": ("text", "o.platform"),
    "order.warehouse_id": ("text", "o.warehouse_id"),
    "order.is_cancelled": ("boolean", "o.is_cancelled"),
}
FIELDS = CUSTOMER_FIELDS | ORDER_FIELDS
OPERATORS = {"==": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
ORDERED_TYPES = {"number"}  # > >= < <= only on numbers

# shipped inside the models_ml package (the wheel packages the whole folder)
DEFAULT_RULES_FILE = Path(__file__).with_name("default_rules.yaml")
DEFAULT_RULES = DEFAULT_RULES_FILE.read_text(encoding="utf-8")


class RuleError(ValueError):
    """A rule that cannot run; the message names the rule id and the problem."""

    def __init__(self, rule_id: str, problem: str) -> None:
        self.rule_id = rule_id
        self.problem = problem
        super().__init__(f"rule {rule_id!r}: {problem}")


# ---------------------------------------------------------------------------- parsing
TOKEN = re.compile(
    r"\s*(?:(?P<number>-?\d+(?:\.\d+)?)|(?P<text>'(?:[^'\\]|\\.)*')"
    r"|(?P<op>==|!=|>=|<=|>|<)|(?P<paren>[()])|(?P<name>[A-Za-z_][A-Za-z0-9_.]*))"
)


def _tokens(rule_id: str, text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise RuleError(rule_id, f"syntax error at {text[pos:]!r} (position {pos + 1})")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str
    value: float | str | bool


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or | not
    args: tuple


class _Parser:
    """condition := or ; or := and ('or' and)* ; and := not ('and' not)* ;
    not := 'not' not | '(' or ')' | field op value"""

    def __init__(self, rule_id: str, tokens: list[tuple[str, str]]) -> None:
        self.rule_id, self.tokens, self.i = rule_id, tokens, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise RuleError(self.rule_id, "syntax error: the condition ends too early")
        self.i += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "name" and token[1].lower() == word:
            self.i += 1
            return True
        return False

    def parse(self):
        node = self.or_()
        if self.peek() is not None:
            raise RuleError(self.rule_id, f"syntax error: unexpected {self.peek()[1]!r}")
        return node

    def or_(self):
        args = [self.and_()]
        while self.keyword("or"):
            args.append(self.and_())
        return args[0] if len(args) == 1 else BoolOp("or", tuple(args))

    def and_(self):
        args = [self.not_()]
        while self.keyword("and"):
            args.append(self.not_())
        return args[0] if len(args) == 1 else BoolOp("and", tuple(args))

    def not_(self):
        if self.keyword("not"):
            return BoolOp("not", (self.not_(),))
        token = self.take()
        if token == ("paren", "("):
            node = self.or_()
            if self.take() != ("paren", ")"):
                raise RuleError(self.rule_id, "syntax error: missing ')'")
            return node
        if token[0] != "name":
            raise RuleError(self.rule_id, f"syntax error: expected a field, got {token[1]!r}")
        field = token[1]
        if field not in FIELDS:
            raise RuleError(
                self.rule_id,
                f"unknown field {field!r} (known: {', '.join(sorted(FIELDS))})",
            )
        kind, op = self.take()
        if kind != "op":
            raise RuleError(self.rule_id, f"syntax error: expected an operator after {field}")
        value = self._value(self.take())
        _check_type(self.rule_id, field, op, value)
        return Comparison(field, op, value)

    def _value(self, token: tuple[str, str]) -> float | str | bool:
        kind, text = token
        if kind == "number":
            return float(text)
        if kind == "text":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "name" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise RuleError(self.rule_id, f"syntax error: expected a value, got {text!r}")


def _check_type(rule_id: str, field: str, op: str, value: float | str | bool) -> None:
    kind = FIELDS[field][0]
    actual = (
        "boolean" if isinstance(value, bool) else "number" if isinstance(value, float) else "text"
    )
    if actual != kind:
        raise RuleError(rule_id, f"wrong type: {field} is {kind}, compared with {actual} {value!r}")
    if op not in ("==", "!=") and kind not in ORDERED_TYPES:
        raise RuleError(rule_id, f"wrong type: {op} needs a number, {field} is {kind}")


@dataclass(frozen=True)
class Rule:
    id: str
    when: str
    then: str
    condition: Comparison | BoolOp

    @property
    def fields(self) -> list[str]:
        found: list[str] = []

        def walk(node) -> None:
            if isinstance(node, Comparison):
                if node.field not in found:
                    found.append(node.field)
            else:
                for arg in node.args:
                    walk(arg)

        walk(self.condition)
        return found

    @property
    def on_orders(self) -> bool:
        return any(f in ORDER_FIELDS for f in self.fields)


ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def parse_rules(text: str, source: str = "rules") -> list[Rule]:
    """Parse and check every rule; the first problem raises RuleError naming its rule."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RuleError("(file)", f"{source} is not valid YAML: {error}") from error
    if not isinstance(data, list):
        raise RuleError("(file)", f"{source} must be a list of rules")
    rules, seen = [], set()
    for number, entry in enumerate(data, start=1):
        rule_id = str(entry.get("id")) if isinstance(entry, dict) else f"#{number}"
        if not isinstance(entry, dict) or set(entry) - {"id", "when", "then"}:
            raise RuleError(rule_id, "a rule has exactly the keys id, when, then")
        for key in ("id", "when", "then"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise RuleError(rule_id, f"'{key}' is missing or not text")
        if not ID.match(entry["id"]):
            raise RuleError(rule_id, "id: lower-case letters, digits and _ only")
        if not ID.match(entry["then"]):
            raise RuleError(rule_id, "then: an action name (lower-case letters, digits, _)")
        if rule_id in seen:
            raise RuleError(rule_id, "duplicate id")
        seen.add(rule_id)
        condition = _Parser(rule_id, _tokens(rule_id, entry["when"])).parse()
        rules.append(Rule(rule_id, entry["when"].strip(), entry["then"], condition))
    return rules


def load_rules(path: Path | None = None) -> list[Rule]:
    """The rules of `path`, or the default rules shipped in models_ml/default_rules.yaml."""
    if path is None:
        return parse_rules(DEFAULT_RULES, str(DEFAULT_RULES_FILE))
    return parse_rules(Path(path).read_text(encoding="utf-8"), str(path))


# ---------------------------------------------------------------------------- SQL
def compile_condition(node: Comparison | BoolOp) -> tuple[str, list]:
    """SQL text built only from whitelisted expressions and operators; values are `?`."""
    if isinstance(node, Comparison):
        return f"({FIELDS[node.field][1]} {OPERATORS[node.op]} ?)", [node.value]
    parts = [compile_condition(arg) for arg in node.args]
    params = [p for _, ps in parts for p in ps]
    if node.op == "not":
        return f"(NOT coalesce({parts[0][0]}, false))", params
    return "(" + f" {node.op.upper()} ".join(sql for sql, _ in parts) + ")", params


def _reason_sql(rule: Rule) -> str:
    pieces = [
        f"'{name} = ' || coalesce(CAST({FIELDS[name][1]} AS VARCHAR), 'null')"
        for name in rule.fields
    ]
    if rule.on_orders:
        pieces.append("'order ' || o.order_id")
    return " || '; ' || ".join(pieces)


CUSTOMERS_SQL = """
    SELECT s.customer_key, s.tier, s.value_class, s.rfm_segment,
           s.revenue_12m_cny::DOUBLE AS revenue_12m_cny, s.orders_12m::DOUBLE AS orders_12m,
           date_diff('day', CAST(s.last_order_at AS DATE), CAST(? AS DATE))::DOUBLE
               AS recency_days,
           coalesce(l.late_payments_12m, 0)::DOUBLE AS late_payments_12m,
           {score_cols}, d.province, d.region
    FROM marts.customer_segments AS s
    LEFT JOIN marts.dim_customer AS d USING (customer_key)
    LEFT JOIN (
        SELECT customer_key, count(DISTINCT order_id) AS late_payments_12m
        FROM marts.fct_order_lines
        WHERE is_invoice_paid_late AND CAST(ordered_at AS DATE) > CAST(? AS DATE) - 365
          AND CAST(ordered_at AS DATE) <= ?
        GROUP BY customer_key) AS l USING (customer_key)
    {score_join}
"""
ORDERS_SQL = """
    SELECT customer_key, order_id, any_value(channel) AS channel,
           any_value(platform) AS platform, any_value(warehouse_id) AS warehouse_id,
           sum(line_amount_cny)::DOUBLE AS amount_cny, count(*)::DOUBLE AS lines,
           sum(ordered_qty)::DOUBLE AS units, bool_and(coalesce(is_cancelled, false))
               AS is_cancelled, max(ordered_at) AS ordered_at
    FROM marts.fct_order_lines
    WHERE customer_key <> '(unknown)' AND CAST(ordered_at AS DATE) > ?
      AND CAST(ordered_at AS DATE) <= ?
    GROUP BY customer_key, order_id
"""


def evaluate_rules(
    con: duckdb.DuckDBPyConnection,
    rules: list[Rule],
    as_of: date,
    order_window_days: int = 30,
    scores: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per customer × rule that fired. `scores`: this run's customer scores
    (default: ml.customer_scores, if it exists)."""
    if scores is not None:
        con.register(
            "_rule_scores",
            scores.select("customer_key", "churn_probability", "value_12m_cny").to_arrow(),
        )
        score_table = "_rule_scores"
    else:
        [(exists,)] = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'ml' AND table_name = 'customer_scores'"
        ).fetchall()
        score_table = "ml.customer_scores" if exists else None
    score_cols = (
        "p.churn_probability, p.value_12m_cny"
        if score_table
        else "NULL::DOUBLE AS churn_probability, NULL::DOUBLE AS value_12m_cny"
    )
    score_join = f"LEFT JOIN {score_table} AS p USING (customer_key)" if score_table else ""
    customers_sql = CUSTOMERS_SQL.format(score_cols=score_cols, score_join=score_join)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _rule_customers AS {customers_sql}", [as_of, as_of, as_of]
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _rule_orders AS {ORDERS_SQL}",
        [as_of - timedelta(days=order_window_days), as_of],
    )
    if scores is not None:
        con.unregister("_rule_scores")
    triggered_default = datetime.combine(as_of, time())
    frames = []
    for rule in rules:
        condition, params = compile_condition(rule.condition)
        if rule.on_orders:
            sql = f"""
                SELECT o.customer_key, ? AS rule_id, ? AS action,
                       {_reason_sql(rule)} AS reason, o.ordered_at AS triggered_at
                FROM _rule_orders AS o LEFT JOIN _rule_customers AS c USING (customer_key)
                WHERE coalesce({condition}, false)
                QUALIFY row_number() OVER (PARTITION BY o.customer_key
                                           ORDER BY o.ordered_at DESC, o.order_id) = 1"""
        else:
            sql = f"""
                SELECT c.customer_key, ? AS rule_id, ? AS action,
                       {_reason_sql(rule)} AS reason, ?::TIMESTAMP AS triggered_at
                FROM _rule_customers AS c WHERE coalesce({condition}, false)"""
        head = [rule.id, rule.then] + ([] if rule.on_orders else [triggered_default])
        frame = con.sql(sql, params=head + params).pl()
        frames.append(
            frame.with_columns(
                (pl.lit(f"{rule.when} — ") + pl.col("reason")).alias("reason"),
                pl.col("triggered_at").cast(pl.Datetime("us")),
            )
        )
    schema = {
        "customer_key": pl.Utf8,
        "rule_id": pl.Utf8,
        "action": pl.Utf8,
        "reason": pl.Utf8,
        "triggered_at": pl.Datetime("us"),
    }
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat([f.cast(schema) for f in frames]).sort("customer_key", "rule_id")
