"""`%%sql`: ad hoc SQL against the open case, in a notebook cell, returning a polars DataFrame.

    %load_ext workbench
    %%sql                      # runs against the one Case in the notebook's namespace
    select * from requests where account_id = $acct limit 10

`$name` refers to the notebook variable `name` and is bound as a DuckDB parameter, never
pasted into the SQL text, so a variable holding adversary text cannot change the query.
Options on the `%%sql` line: a case variable name when the notebook holds several cases, and
`-o NAME` to also store the result in the variable NAME.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import duckdb

from workbench.errors import ParameterError, WorkbenchError, did_you_mean

if TYPE_CHECKING:
    import polars as pl

    from workbench.case import Case


def parameters(query: str) -> list[str]:
    """Names of the `$name` parameters of the query's last statement.

    Example:
        >>> parameters("select * from requests where account_id = $acct and ts > $since")
        ['acct', 'since']
    """
    con = duckdb.connect(":memory:")
    try:
        stmts = con.extract_statements(query)
    except duckdb.Error as exc:
        msg = f"Cannot parse the SQL cell: {exc}"
        raise ParameterError(msg) from None
    finally:
        con.close()
    if not stmts:
        msg = "The %%sql cell is empty: write one SQL query under the %%sql line."
        raise ParameterError(msg)
    return sorted(stmts[-1].named_parameters)


def find_case(namespace: Mapping[str, Any], name: str | None = None) -> Case:
    """The case a cell runs against: the named variable, or the only Case in the namespace."""
    from workbench.case import Case

    cases = {k: v for k, v in namespace.items() if isinstance(v, Case) and not k.startswith("_")}
    if name is not None:
        value = namespace.get(name)
        if not isinstance(value, Case):
            msg = (f"{name!r} is not an open case in this notebook.{did_you_mean(name, cases)} "
                   "Open one with `case = wb.open(path, read_only=True)`.")
            raise ParameterError(msg)
        return value
    if len(cases) == 1:
        return next(iter(cases.values()))
    if "case" in cases:
        return cases["case"]
    if not cases:
        msg = ("No open case in this notebook. Open one first: "
               "`import workbench as wb; case = wb.open(path, read_only=True)`.")
        raise ParameterError(msg)
    msg = (f"Several open cases ({', '.join(sorted(cases))}); name the one to query on the "
           f"magic line, e.g. `%%sql {sorted(cases)[0]}`.")
    raise ParameterError(msg)


def run_cell(line: str, cell: str, namespace: dict[str, Any]) -> pl.DataFrame:
    """Run a `%%sql` cell: bind `$name` from the namespace and query the case.

    Example:
        >>> import workbench as wb
        >>> ns = {"case": wb.open(), "who": "<script>"}
        >>> run_cell("", "select $who as who", ns)["who"][0]
        '<script>'
    """
    args = shlex.split(line)
    out: str | None = None
    if "-o" in args or "--out" in args:
        flag = "-o" if "-o" in args else "--out"
        i = args.index(flag)
        if i + 1 >= len(args) or not args[i + 1].isidentifier():
            msg = f"{flag} needs a variable name to store the result in, e.g. `%%sql -o df`."
            raise ParameterError(msg)
        out = args[i + 1]
        del args[i:i + 2]
    if len(args) > 1:
        msg = (f"Unexpected words on the %%sql line: {' '.join(args)!r}. Give at most a case "
               "variable name and `-o NAME`.")
        raise ParameterError(msg)
    case = find_case(namespace, args[0] if args else None)
    params: dict[str, Any] = {}
    for name in parameters(cell):
        if name not in namespace:
            known = [k for k in namespace if not k.startswith("_")]
            msg = (f"${name} in the query is not a variable in this notebook."
                   f"{did_you_mean(name, known)} Define it (e.g. `{name} = ...`) before the cell.")
            raise ParameterError(msg)
        params[name] = namespace[name]
    try:
        result = case.sql(cell, **params)
    except duckdb.Error as exc:
        raise ParameterError(sql_error(exc)) from None
    if out is not None:
        namespace[out] = result
    return result


def sql_error(exc: BaseException) -> str:
    """A DuckDB error as one line: its first line and DuckDB's own hint ("Did you mean …").

    Example:
        >>> import duckdb
        >>> try:
        ...     duckdb.connect().sql("selct 1")
        ... except duckdb.Error as e:
        ...     print(sql_error(e))
        SQL error: Parser Error: syntax error at or near "selct" (LINE 1: selct 1)
    """
    lines = [x.strip() for x in str(exc).strip().splitlines() if x.strip()]
    first = lines[0] if lines else type(exc).__name__
    hints = [x for x in lines[1:] if x.lower().startswith(("did you mean", "hint", "candidate"))]
    where = next((x for x in lines[1:] if x.startswith("LINE ")), "")
    return " ".join(["SQL error:", first, *hints, *([f"({where})"] if where else [])])


def load_ipython_extension(ipython: Any) -> None:
    """Register the `%%sql` cell magic (called by `%load_ext workbench`)."""
    from IPython.core.error import UsageError

    def sql(line: str, cell: str) -> pl.DataFrame:
        try:
            return run_cell(line, cell, ipython.user_ns)
        except WorkbenchError as exc:
            raise UsageError(str(exc)) from None

    sql.__doc__ = __doc__
    ipython.register_magic_function(sql, magic_kind="cell", magic_name="sql")
