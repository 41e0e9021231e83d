"""DuckDB to Spark SQL with sqlglot, plus the few dialect gaps sqlglot leaves open.

The detector and link files are written for DuckDB. `sqlglot.transpile(read="duckdb",
write="spark")` carries almost all of them across, `$name` parameters included (they become
Spark's named markers `:name`). What it gets wrong for our use is fixed here, generically, on
the syntax tree, never by editing the files:

- `epoch(ts)` is fractional seconds in DuckDB; sqlglot's `UNIX_TIMESTAMP(ts)` truncates to whole
  seconds, which shifts inter-arrival statistics. It becomes `unix_micros(ts) / 1e6`.
- `list_slice(l, a, b)` (1-based, inclusive) has no Spark function of that name: it becomes
  `slice(l, a, b - a + 1)`.
- `list(x ORDER BY y)` loses its order as `collect_list(x)`; it becomes the array of `x` from the
  sorted `collect_list(struct(y, x))`.
- `FROM …, range(n) AS t(b)` (a table function) comes out as an invalid `EXPLODE(…, _u(t))`;
  it is rewritten as `unnest(range(n))`, which becomes `LATERAL VIEW EXPLODE(SEQUENCE(…))`.
- `entropy(x)` (Shannon entropy in bits of a group's values) has no Spark aggregate; it becomes
  an expression over `collect_list(x)` (see `_entropy`).
"""

from __future__ import annotations

from functools import cache

import sqlglot
from sqlglot import exp


@cache
def to_spark(sql: str) -> str:
    """Transpile one DuckDB statement to Spark SQL, `$name` becoming `:name`.

    Example:
        >>> to_spark("select epoch(ts) as t from requests where n >= $min_n")
        'SELECT UNIX_MICROS(ts) / 1000000.0 AS t FROM requests WHERE n >= :min_n'
    """
    tree = sqlglot.parse_one(sql, read="duckdb")
    # Innermost first, so that a fixed node's arguments are already fixed.
    for node in reversed(list(tree.walk())):
        new = _fix(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree.sql(dialect="spark")


def _fix(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries):
        # `FROM x, range(4) AS t(b)`: sqlglot emits an invalid EXPLODE(…, _u(t)) for the
        # table function; as `unnest(range(4))` it becomes LATERAL VIEW EXPLODE(SEQUENCE(…)).
        alias = node.args.get("alias")
        return exp.Unnest(expressions=[node.this.copy()], alias=alias.copy() if alias else None)
    if isinstance(node, exp.TimeToUnix):
        micros = exp.Anonymous(this="UNIX_MICROS", expressions=[node.this])
        return exp.Div(this=micros, expression=exp.Literal.number("1000000.0"))
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "list_slice":
        arr, start, stop = node.expressions
        length = exp.Add(this=exp.Sub(this=stop.copy(), expression=exp.paren(start.copy())),
                         expression=exp.Literal.number(1))
        return exp.Anonymous(this="SLICE", expressions=[arr, start, exp.paren(length)])
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        return _ordered_list(node)
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "entropy":
        return _entropy(node.expressions[0])
    return node


def _ordered_list(node: exp.ArrayAgg) -> exp.Expr:
    """`list(x ORDER BY k…)` -> transform(array_sort(collect_list(struct(k…, x)), cmp), s -> s.v).

    The comparator follows DuckDB's defaults: ascending unless DESC, NULLs last.
    """
    order = node.this
    assert isinstance(order, exp.Order)
    keys = order.expressions
    fields = [f"{k.this.sql(dialect='spark')} AS k{i}" for i, k in enumerate(keys)]
    fields.append(f"{order.this.sql(dialect='spark')} AS v")
    arms = []
    for i, k in enumerate(keys):
        lo, hi = ("1", "-1") if k.args.get("desc") else ("-1", "1")
        a, b = f"wb_l.k{i}", f"wb_r.k{i}"
        arms += [f"WHEN {a} IS NULL AND {b} IS NOT NULL THEN 1",
                 f"WHEN {a} IS NOT NULL AND {b} IS NULL THEN -1",
                 f"WHEN {a} < {b} THEN {lo}", f"WHEN {a} > {b} THEN {hi}"]
    cmp = f"(wb_l, wb_r) -> CASE {' '.join(arms)} ELSE 0 END"
    text = (f"TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT({', '.join(fields)})), {cmp}), "
            "wb_s -> wb_s.v)")
    return sqlglot.parse_one(text, read="spark")


def _entropy(col: exp.Expr) -> exp.Expr:
    """Shannon entropy (bits) of the non-NULL values of `col` in the group, as DuckDB's.

    Costs O(n x distinct values) per group: fine for the small domains detectors use it on
    (hours of the day, weekdays), not for high-cardinality columns.
    """
    values = f"COLLECT_LIST({col.sql(dialect='spark')})"
    p = f"(SIZE(FILTER({values}, wb_x -> wb_x = wb_v)) / CAST(SIZE({values}) AS DOUBLE))"
    return sqlglot.parse_one(
        f"AGGREGATE(ARRAY_DISTINCT({values}), CAST(0.0 AS DOUBLE), "
        f"(wb_acc, wb_v) -> wb_acc - {p} * LOG2({p}))", read="spark")
