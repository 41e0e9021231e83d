"""The %%sql cell magic: runs against the open case, binds $name from the notebook, never pastes."""

from __future__ import annotations

import polars as pl
import pytest

import workbench as wb
from workbench.errors import ParameterError
from workbench.magic import find_case, parameters, run_cell


@pytest.fixture
def ns(case: wb.Case) -> dict:
    case.execute("insert into requests by name select * from (values ('r1', 'acct-1'), "
                 "('r2', 'acct-2')) t(request_id, account_id)")
    return {"case": case}


def test_variables_are_bound_not_pasted(ns: dict) -> None:
    ns["acct"] = "acct-1' or '1'='1"
    df = run_cell("", "select request_id from requests where account_id = $acct", ns)
    assert df.height == 0  # the quote trick is just an odd account id
    ns["acct"] = "acct-2"
    df = run_cell("", "select request_id from requests where account_id = $acct", ns)
    assert isinstance(df, pl.DataFrame)
    assert df["request_id"].to_list() == ["r2"]


def test_out_option_stores_the_result(ns: dict) -> None:
    run_cell("-o found", "select count(*) as n from requests", ns)
    assert ns["found"]["n"][0] == 2


def test_missing_variable_names_the_closest(ns: dict) -> None:
    ns["account"] = "acct-1"
    with pytest.raises(ParameterError, match=r"\$acount .*Did you mean account\?"):
        run_cell("", "select * from requests where account_id = $acount", ns)


def test_several_cases_need_a_name(ns: dict) -> None:
    other = wb.open()
    ns["other"] = other
    assert find_case(ns) is ns["case"]  # `case` wins when present
    del ns["case"]
    ns["third"] = wb.open()
    with pytest.raises(ParameterError, match="Several open cases .*%%sql other"):
        run_cell("", "select 1", ns)
    assert run_cell("other", "select count(*) as n from requests", ns)["n"][0] == 0
    with pytest.raises(ParameterError, match="'nope' is not an open case"):
        run_cell("nope", "select 1", ns)


def test_no_case_and_empty_cell_are_explained() -> None:
    with pytest.raises(ParameterError, match="No open case"):
        run_cell("", "select 1", {})
    with pytest.raises(ParameterError, match="cell is empty"):
        parameters("  ")


def test_load_ext_registers_the_cell_magic(ns: dict) -> None:
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "workbench")
        shell.user_ns.update(ns, who="acct-1")
        df = shell.run_cell_magic("sql", "", "select request_id from requests "
                                  "where account_id = $who")
        assert df["request_id"].to_list() == ["r1"]
        with pytest.raises(UsageError, match=r"\$whom"):
            shell.run_cell_magic("sql", "", "select $whom")
    finally:
        InteractiveShell.clear_instance()


def test_a_sql_typo_is_one_line_with_duckdbs_hint(ns: dict) -> None:
    with pytest.raises(ParameterError) as err:
        run_cell("", "select acount_id from requests", ns)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("SQL error: Binder Error")
    assert 'Candidate bindings: "account_id"' in text


def test_window_and_selection_reach_sql_as_variables(ns: dict) -> None:
    from workbench.widgets.export import share
    from workbench.widgets.state import InvestigationState

    state = InvestigationState(entity_type="account", entity_id="acct-1")
    state.selected_requests = ["r2"]
    share(state, ["acct-1"], ns)
    df = run_cell("", "select request_id from requests where request_id in "
                  "(select unnest($wb_selected_requests::VARCHAR[]))", ns)
    assert df["request_id"].to_list() == ["r2"]
    assert ns["wb_window_start"] is None
