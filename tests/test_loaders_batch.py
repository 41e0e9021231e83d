"""Batch files: inputs join outputs on custom_id within one load; what cannot join is named."""

from __future__ import annotations

import json
from pathlib import Path

import workbench as wb
from workbench.loaders import load

FIX = Path(__file__).parent / "fixtures" / "loaders"


def test_input_alone_is_held_then_quarantined_with_the_reason() -> None:
    c = wb.open()
    report = load(c, FIX / "openai_batch_input.jsonl", account_from="=acct", progress=False)
    f = report.files[0]
    assert (f.counts.read, f.counts.loaded, f.counts.quarantined) == (4, 0, 4)
    details = c.sql("select detail from quarantine")["detail"].to_list()
    assert all("load the batch's output" in d for d in details)
    b = c.sql("select rows_read, rows_loaded, rows_quarantined from load_batches").row(0)
    assert b == (4, 0, 4)


def test_output_alone_loads_without_request_bodies() -> None:
    c = wb.open()
    report = load(c, FIX / "openai_batch_output.jsonl", account_from="=acct", progress=False)
    assert (report.read, report.loaded) == (2, 2)
    rows = c.sql("select model, prompt_text, output_text is not null as out, tool_count "
                 "from requests order by source_line").rows()
    assert rows == [("gpt-4o-mini-2024-07-18", None, False, None),
                    ("gpt-4o-mini-2024-07-18", None, True, None)]


def test_custom_id_given_twice_is_a_conflict_not_a_guess(tmp_path: Path) -> None:
    lines = (FIX / "openai_batch_input.jsonl").read_text()
    other = tmp_path / "other_input.jsonl"
    other.write_text(lines.replace("Solve 17*23", "Something else"))
    c = wb.open()
    report = load(c, [FIX / "openai_batch_input.jsonl", other, FIX / "openai_batch_output.jsonl"],
                  account_from="=acct", progress=False)
    second = report.files[1].counts
    assert (second.read, second.quarantined) == (4, 4)
    assert c.sql("select count(*) from quarantine where reason = 'conflict'").item() == 4
    assert c.sql("select prompt_text from requests where request_id = 'req_7ae9a1'").item() == (
        "Solve 17*23 and show your reasoning.")
    for f in report.files:
        c2 = f.counts
        assert c2.read == c2.loaded + c2.quarantined + c2.duplicate


def test_batch_files_without_account_say_so() -> None:
    c = wb.open()
    report = load(c, FIX / "anthropic_batch_results.jsonl", progress=False)
    assert report.quarantined == 4
    detail = c.sql("select detail from quarantine limit 1").item()
    assert "batch files record no account" in detail
    assert "--account-from" in detail


def test_custom_id_repeated_on_one_line_keeps_the_first(tmp_path: Path) -> None:
    # A batch's requests all on the document's second line: the first of a custom_id joins
    # its result, the later one is the conflict.
    reqs = json.loads((FIX / "anthropic_batch_requests.json").read_text())["requests"]
    again = {**reqs[0], "params": {**reqs[0]["params"],
                                   "messages": [{"role": "user", "content": "Something else"}]}}
    p = tmp_path / "requests.json"
    p.write_text('{"requests": [\n' + json.dumps([reqs[0], reqs[1], again])[1:-1] + "\n]}\n")
    c = wb.open()
    report = load(c, [p, FIX / "anthropic_batch_results.jsonl"], account_from="=acct",
                  progress=False)
    c1 = report.files[0].counts
    assert (c1.read, c1.loaded, c1.quarantined) == (3, 2, 1)
    assert c.sql("select source_line, reason from quarantine where source_file = $f",
                 f=str(p)).rows() == [(2, "conflict")]
    assert "Hello, world" in c.sql("select string_agg(prompt_text) from requests").item()


def test_a_batch_document_on_one_line_is_cut_into_its_requests(tmp_path: Path) -> None:
    # The create-batch body as a client sends it: one line, `{"requests": [...]}`.
    doc = json.loads((FIX / "anthropic_batch_requests.json").read_text())
    p = tmp_path / "requests.json"
    p.write_text(json.dumps(doc) + "\n")
    c = wb.open()
    report = load(c, [p, FIX / "anthropic_batch_results.jsonl"], account_from="=acct",
                  progress=False)
    c1 = report.files[0].counts
    assert (c1.read, c1.quarantined) == (len(doc["requests"]), 0)
    assert "Hello, world" in c.sql("select string_agg(prompt_text) from requests").item()


def test_one_record_a_line_with_a_requests_list_stays_one_record_a_line(tmp_path: Path) -> None:
    from workbench.loaders import _split

    p = tmp_path / "native.jsonl"
    p.write_text('{"request_id": "r1", "requests": [1, 2]}\n{"request_id": "r2"}\n')
    assert _split.line_delimited(p)  # the default rule never treats a line as a container
    batch = _split.Rule(records=(("requests", "*"),), one_line=True)
    assert not _split.line_delimited(p, batch)
