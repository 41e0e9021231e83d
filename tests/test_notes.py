"""Investigator notes and tags: saved in case_notes, bound values, writable from read-only cases."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import workbench as wb
from workbench.errors import ParameterError, UnknownNameError
from workbench.notes import add_note, notes


def test_note_is_stored_and_listed_newest_first(case: wb.Case) -> None:
    first = add_note(case, "account", "acct-1", "same card as acct-2", tag="escalate",
                     author="ana")
    second = wb.note(case, "account", "acct-1", "confirmed by billing", tag="confirmed")
    add_note(case, "campaign", "camp-1", "opened")
    df = notes(case, "account", "acct-1")
    assert df["note_id"].to_list() == [second, first]
    assert df["tag"].to_list() == ["confirmed", "escalate"]
    assert df["author"][1] == "ana"
    assert notes(case).height == 3
    assert notes(case, "campaign")["entity_id"].to_list() == ["camp-1"]


def test_adversary_text_is_stored_verbatim_as_a_value(case: wb.Case) -> None:
    evil = "x'); drop table requests; -- <script>alert(1)</script>"
    add_note(case, "account", evil, evil)
    assert notes(case, "account", evil)["note"].to_list() == [evil]
    assert "requests" in case.tables()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"entity_type": "acount"}, "Unknown entity type 'acount'. Did you mean account?"),
    ({"note": "  ", "tag": None}, "Empty note"),
    ({"tag": "Needs Review!"}, "Tag 'Needs Review!' is not allowed"),
    ({"entity_id": ""}, "needs the id of the entity"),
    ({"note": "x" * 10_001}, "the limit is 10,000"),
])
def test_bad_notes_are_refused_with_the_rule(case: wb.Case, kwargs: dict, message: str) -> None:
    args = {"entity_type": "account", "entity_id": "acct-1", "note": "hi", "tag": None} | kwargs
    with pytest.raises((ParameterError, UnknownNameError), match=re.escape(message)):
        add_note(case, **args)
    assert notes(case).height == 0


def test_tag_alone_is_a_note(case: wb.Case) -> None:
    add_note(case, "account", "acct-1", "", tag="benign")
    assert notes(case)["tag"].to_list() == ["benign"]


def test_read_only_case_writes_a_note_after_a_held_lock_is_released(tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    wb.open(path)
    ro = wb.open(path, read_only=True, lock_timeout=60)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(path)!r})
        print("locked", flush=True)
        time.sleep(1.5)
        con.close()
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    note_id = wb.note(ro, "account", "acct-1", "written while another process loaded")
    holder.wait(timeout=30)
    assert notes(ro)["note_id"].to_list() == [note_id]
    with pytest.raises(wb.WorkbenchError, match="open read-only"):
        ro.execute("delete from case_notes")
