"""The canonical case schema: every table, column, type and one-line meaning.

Everything after loading reads only these tables. `docs/schema.md` is generated from this
module (`python -m workbench.schema > docs/schema.md`) and a contract test compares
`DESCRIBE` of each table in a fresh case with the definitions here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    type: str
    doc: str


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns, primary key and what it holds."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    derived: bool = False  # written by the workbench (features, detectors, linking), not loaded

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def ddl(self, name: str | None = None) -> str:
        """CREATE TABLE statement for this table (names are ours, never user input)."""
        cols = [f'"{c.name}" {c.type}' for c in self.columns]
        if self.primary_key:
            cols.append(f"PRIMARY KEY ({', '.join(self.primary_key)})")
        body = ",\n  ".join(cols)
        return f'CREATE TABLE IF NOT EXISTS "{name or self.name}" (\n  {body}\n)'


def _t(name: str, doc: str, cols: list[tuple[str, str, str]], pk: tuple[str, ...] = (),
       derived: bool = False) -> Table:
    return Table(name, doc, tuple(Column(*c) for c in cols), pk, derived)


REQUESTS = _t("requests", "One row per API call, narrow and typed; text kept to the last turn.", [
    ("request_id", "VARCHAR", "Provider's request id; primary key."),
    ("ts", "TIMESTAMPTZ", "When the request arrived, UTC."),
    ("account_id", "VARCHAR", "Billing account that made the call."),
    ("org_id", "VARCHAR", "Organisation the account belongs to."),
    ("api_key_id", "VARCHAR", "API key used (an id, never the secret)."),
    ("end_user_id", "VARCHAR", "End user declared by the caller: OpenAI `user`, "
                               "Anthropic `metadata.user_id`, a gateway's end user."),
    ("client_ip", "VARCHAR", "Client IP address as logged."),
    ("ip_prefix", "VARCHAR", "Network prefix of client_ip: /24 for IPv4, /48 for IPv6."),
    ("user_agent", "VARCHAR", "HTTP User-Agent as sent (adversary-controlled)."),
    ("country", "VARCHAR", "Country of the client IP (ISO 3166-1 alpha-2)."),
    ("access_path", "VARCHAR", "How the call reached the model: `direct`, `cloud:<vendor>`, "
                               "`reseller:<name>`."),
    ("endpoint", "VARCHAR", "API path, e.g. /v1/messages, /v1/chat/completions."),
    ("api_style", "VARCHAR", "Request shape: `anthropic`, `openai` or `other`."),
    ("model", "VARCHAR", "Model requested."),
    ("status", "INTEGER", "HTTP status returned."),
    ("latency_ms", "INTEGER", "Time to complete the response, milliseconds."),
    ("max_tokens", "INTEGER", "Output token cap requested (max_tokens / max_output_tokens)."),
    ("temperature", "DOUBLE", "Sampling temperature requested."),
    ("top_p", "DOUBLE", "Nucleus sampling parameter requested."),
    ("top_k", "INTEGER", "Top-k sampling parameter requested."),
    ("n_choices", "INTEGER", "Number of completions requested (OpenAI `n`); 1 when absent."),
    ("stream", "BOOLEAN", "Whether the response was streamed."),
    ("logprobs", "BOOLEAN", "Whether token log-probabilities were requested."),
    ("top_logprobs", "INTEGER", "How many alternatives per token were requested."),
    ("logit_bias_n", "INTEGER", "Number of tokens with a logit bias in the request."),
    ("thinking_mode", "VARCHAR", "Extended thinking / reasoning setting: `enabled`, `disabled`, "
                                 "`adaptive`, or a reasoning effort such as `high`."),
    ("thinking_budget", "INTEGER", "Thinking token budget requested."),
    ("tool_count", "INTEGER", "Number of tool definitions in the request."),
    ("tool_names", "VARCHAR[]", "Names of the tools defined (adversary-controlled)."),
    ("tool_choice", "VARCHAR", "Tool choice setting: auto, any, none, required or a tool name."),
    ("system_hash", "VARCHAR", "Hash of the full system prompt (text in request_content)."),
    ("n_messages", "INTEGER", "Number of messages in the request."),
    ("n_user_turns", "INTEGER", "Number of user messages in the request."),
    ("prompt_text", "VARCHAR", "Text of the last user turn (adversary-controlled); NULL when "
                               "content is not retained."),
    ("prompt_chars", "INTEGER", "Length of prompt_text in characters."),
    ("output_text", "VARCHAR", "Text the model returned (first choice); NULL when not retained."),
    ("output_chars", "INTEGER", "Length of output_text in characters."),
    ("input_tokens", "INTEGER", "Input tokens billed."),
    ("output_tokens", "INTEGER", "Output tokens billed."),
    ("cache_read_tokens", "INTEGER", "Input tokens served from the prompt cache."),
    ("reasoning_tokens", "INTEGER", "Output tokens spent on reasoning / thinking."),
    ("stop_reason", "VARCHAR", "Why generation stopped: end_turn, max_tokens, stop, length, "
                               "tool_use, …"),
    ("load_batch", "INTEGER", "load_batches.batch_id of the load that brought this row."),
    ("source_file", "VARCHAR", "File the row came from."),
    ("source_line", "BIGINT", "Line (or record number) in source_file, from 1."),
], pk=("request_id",))

REQUEST_CONTENT = _t("request_content", "Full content of each request, kept apart from "
                     "`requests` so that scans stay fast.", [
    ("request_id", "VARCHAR", "Joins requests.request_id."),
    ("system_prompt", "VARCHAR", "Full system prompt (adversary-controlled)."),
    ("messages", "JSON", "Full message list as sent."),
    ("tools", "JSON", "Tool definitions as sent."),
    ("response", "JSON", "Full response body as returned."),
], pk=("request_id",))

ACCOUNTS = _t("accounts", "One row per billing account, from the provider's account records.", [
    ("account_id", "VARCHAR", "Billing account id."),
    ("org_id", "VARCHAR", "Organisation id."),
    ("created_at", "TIMESTAMPTZ", "When the account was created."),
    ("payment_fingerprint", "VARCHAR", "Fingerprint of the payment method (card, bank)."),
    ("email_domain", "VARCHAR", "Domain of the sign-up email."),
    ("country", "VARCHAR", "Country declared at sign-up."),
    ("signup_path", "VARCHAR", "self_serve, education, startup_program, enterprise, "
                               "cloud_marketplace, reseller."),
    ("verified", "BOOLEAN", "Whether identity or business verification passed."),
], pk=("account_id",))

MODEL_RELEASES = _t("model_releases", "When each model became available.", [
    ("model", "VARCHAR", "Model name as it appears in requests.model."),
    ("released_at", "TIMESTAMPTZ", "General availability time."),
], pk=("model",))

LOAD_BATCHES = _t("load_batches", "One row per file per load, with the reconciliation "
                  "rows_read = rows_loaded + rows_quarantined + rows_duplicate.", [
    ("batch_id", "INTEGER", "Load batch id."),
    ("source_file", "VARCHAR", "File loaded."),
    ("format", "VARCHAR", "Loader used: native, litellm, otel, canonical_csv, "
                          "canonical_parquet, accounts, releases."),
    ("target", "VARCHAR", "Table the file fed."),
    ("file_sha256", "VARCHAR", "SHA-256 of the file's bytes, to recognise a repeated load."),
    ("started_at", "TIMESTAMPTZ", "When the load of this file began."),
    ("finished_at", "TIMESTAMPTZ", "When it committed."),
    ("rows_read", "BIGINT", "Records read from the file."),
    ("rows_loaded", "BIGINT", "Records added to the target table."),
    ("rows_quarantined", "BIGINT", "Records sent to quarantine."),
    ("rows_duplicate", "BIGINT", "Identical repeats of records already loaded."),
], pk=("batch_id",))

QUARANTINE = _t("quarantine", "Records that could not be loaded, with why.", [
    ("batch_id", "INTEGER", "load_batches.batch_id."),
    ("source_file", "VARCHAR", "File the record came from."),
    ("source_line", "BIGINT", "Line or record number in the file, from 1."),
    ("reason", "VARCHAR", "Short machine-readable reason, e.g. malformed_json, missing_field, "
                          "bad_timestamp, wrong_type, not_utf8, conflict."),
    ("detail", "VARCHAR", "Human-readable detail: which field, which value, what rule."),
    ("raw", "VARCHAR", "The raw record, cut to the stated bound (adversary-controlled)."),
    ("raw_bytes", "BIGINT", "Length of the raw record in bytes before cutting."),
])

# Derived tables: written by features, detectors and linking; read by widgets and reports.
FEATURES = _t("features", "Text features computed once per request (NULL text when content "
              "is not retained).", [
    ("request_id", "VARCHAR", "Joins requests.request_id."),
    ("prompt_norm", "VARCHAR", "Normalised prompt: NFKC, controls removed, case folded, "
                               "numbers, quotes, code, URLs and names masked."),
    ("template_id", "VARCHAR", "Hash of prompt_norm: requests with one template share it."),
    ("simhash", "UBIGINT", "64-bit SimHash of prompt shingles for near-duplicate grouping."),
    ("lang", "VARCHAR", "Detected language of the prompt (ISO 639-1) or `und`."),
    ("capability", "VARCHAR", "Capability family: coding, maths, reasoning, agentic, "
                              "computer_use, vision, data_analysis, creative, chat, other."),
    ("cot_flag", "BOOLEAN", "Prompt asks for chain-of-thought / internal reasoning to be shown."),
    ("rubric_flag", "BOOLEAN", "Prompt uses the model as a grader / reward model."),
    ("sensitive_flag", "BOOLEAN", "Prompt asks for a sensitive-topic ('censorship-safe') rewrite."),
    ("coercion_flag", "BOOLEAN", "Prompt coerces the full reasoning trace out, any language."),
], pk=("request_id",), derived=True)

DETECTOR_RUNS = _t("detector_runs", "One row per detector per run of `detect`.", [
    ("run_id", "VARCHAR", "Run id shared by all detectors run together."),
    ("detector", "VARCHAR", "Detector name (file stem)."),
    ("detector_id", "VARCHAR", "Detector's permanent UUID."),
    ("version", "VARCHAR", "Hash of the detector file's text."),
    ("params", "JSON", "Parameters the detector ran with."),
    ("status", "VARCHAR", "ok, no_content (text detector on metadata-only logs), skipped, error."),
    ("message", "VARCHAR", "Why a detector was skipped or had no content."),
    ("rows", "BIGINT", "Findings written."),
    ("elapsed_ms", "DOUBLE", "Wall time of the detector."),
    ("ran_at", "TIMESTAMPTZ", "When it ran."),
], derived=True)

FINDINGS = _t("findings", "What detectors found: one row per detector per entity.", [
    ("run_id", "VARCHAR", "detector_runs.run_id."),
    ("detector", "VARCHAR", "Detector name."),
    ("detector_id", "VARCHAR", "Detector's permanent UUID."),
    ("version", "VARCHAR", "Hash of the detector file's text."),
    ("params", "JSON", "Parameters the detector ran with."),
    ("ran_at", "TIMESTAMPTZ", "When it ran."),
    ("level", "VARCHAR", "The detector's declared level when score >= 0.8, one level lower "
                         "for 0.5 <= score < 0.8, two lower below 0.5 (floor informational)."),
    ("entity_type", "VARCHAR", "account, org, api_key, ip_prefix, payment_fingerprint, …"),
    ("entity_id", "VARCHAR", "The entity's id (adversary-influenced: escape when shown)."),
    ("score", "DOUBLE", "Strength of the finding, 0 to 1."),
    ("evidence", "JSON", "Why it fired: counts, shares, thresholds, example request ids."),
    ("first_seen", "TIMESTAMPTZ", "First request behind the finding."),
    ("last_seen", "TIMESTAMPTZ", "Last request behind the finding."),
], derived=True)

ACCOUNT_LINKS = _t("account_links", "Weighted edges of the account graph.", [
    ("src", "VARCHAR", "Account id (src < dst)."),
    ("dst", "VARCHAR", "Account id."),
    ("kind", "VARCHAR", "payment, ip_prefix_hour, sync_activity, sync_shape, "
                        "lockstep_template, near_duplicate, system_prompt, signup_burst."),
    ("value", "VARCHAR", "The shared value (fingerprint, prefix, template, …)."),
    ("weight", "DOUBLE", "Edge weight after down-weighting common values."),
    ("evidence", "JSON", "Why: the shared value's degree, counts, similarity."),
], derived=True)

LEADS = _t("leads", "Accounts ranked by risk, with their reasons.", [
    ("account_id", "VARCHAR", "Account id."),
    ("campaign_id", "VARCHAR", "Campaign it belongs to, or NULL."),
    ("risk", "DOUBLE", "Risk 0 to 1 (documented rule in docs/evaluation.md)."),
    ("level", "VARCHAR", "low, medium, high, critical."),
    ("reasons", "JSON", "Top contributing detectors with evidence, and campaign links."),
], pk=("account_id",), derived=True)

CAMPAIGNS = _t("campaigns", "Groups of linked accounts run as one operation.", [
    ("campaign_id", "VARCHAR", "Stable campaign id."),
    ("accounts", "INTEGER", "Number of member accounts."),
    ("requests", "BIGINT", "Requests made by members."),
    ("tokens", "BIGINT", "Input plus output tokens of those requests."),
    ("first_seen", "TIMESTAMPTZ", "First request."),
    ("last_seen", "TIMESTAMPTZ", "Last request."),
    ("access_paths", "VARCHAR[]", "Access paths used."),
    ("capabilities", "VARCHAR[]", "Dominant capability families."),
    ("models", "VARCHAR[]", "Models used."),
    ("top_detectors", "VARCHAR[]", "Detectors that contributed most."),
    ("risk", "DOUBLE", "Campaign risk 0 to 1."),
    ("level", "VARCHAR", "low, medium, high, critical."),
], pk=("campaign_id",), derived=True)

ACCOUNT_PROFILES = _t("account_profiles", "One row per account that sent requests: the totals "
                      "cohort detectors pool (one scan of requests and features per run). Written "
                      "by `workbench.cohorts.build_profiles`.", [
    ("account_id", "VARCHAR", "Account id."),
    ("requests", "BIGINT", "Requests sent."),
    ("first_seen", "TIMESTAMPTZ", "First request."),
    ("last_seen", "TIMESTAMPTZ", "Last request."),
    ("active_days", "BIGINT", "Distinct UTC days with a request."),
    ("active_hours", "BIGINT", "Distinct clock hours with a request."),
    ("text_requests", "BIGINT", "Requests with text features (prompt text retained)."),
    ("harvest_n", "BIGINT", "Requests with any harvesting text flag (cot, rubric, sensitive, "
                            "coercion)."),
    ("harvest_distinct", "BIGINT", "Distinct prompts among the requests with cot, sensitive or "
                                   "coercion flags (a benchmark rerun repeats them)."),
    ("cot_n", "BIGINT", "Requests with cot_flag."),
    ("rubric_n", "BIGINT", "Requests with rubric_flag."),
    ("sensitive_n", "BIGINT", "Requests with sensitive_flag."),
    ("coercion_n", "BIGINT", "Requests with coercion_flag."),
    ("templates", "BIGINT", "Distinct prompt templates."),
    ("capabilities", "BIGINT", "Distinct capability families."),
    ("tool_n", "BIGINT", "Requests carrying tool definitions."),
    ("headless_tool_n", "BIGINT", "Requests carrying tool definitions with no end user declared "
                                  "and no system prompt."),
    ("thinking_n", "BIGINT", "Requests with extended thinking or a reasoning effort set."),
    ("long_output_n", "BIGINT", "Requests asking for or getting a long output: max_tokens or "
                                "thinking budget at or above 8,000, reasoning tokens returned, "
                                "or output tokens beyond the case's 90th percentile."),
    ("input_tokens", "BIGINT", "Input tokens billed."),
    ("output_tokens", "BIGINT", "Output tokens billed."),
    ("reasoning_tokens", "BIGINT", "Reasoning tokens billed."),
    ("access_path", "VARCHAR", "Most used access path."),
    ("user_agent", "VARCHAR", "Most used user agent (adversary-controlled)."),
    ("tool_set", "VARCHAR", "Most used set of two or more tools, names sorted and joined by "
                            "commas (adversary-controlled)."),
], pk=("account_id",), derived=True)

COHORTS = _t("cohorts", "Groups of accounts tied by one shared value or by linking: what the "
             "cohort detectors judge as a whole. Written by `workbench.cohorts.build_cohorts` "
             "after linking.", [
    ("cohort_id", "VARCHAR", "`kind:value`, e.g. `community:cmp-…`, `payment:…` "
                             "(adversary-influenced)."),
    ("kind", "VARCHAR", "community, org, payment, ip_prefix, client, signup, tools."),
    ("value", "VARCHAR", "The shared value, or the community's id (adversary-influenced)."),
    ("account_id", "VARCHAR", "A member account."),
    ("members", "INTEGER", "Accounts in the cohort."),
], derived=True)

DISTRIBUTION_TESTS = _t("distribution_tests", "Each account's and cohort's prompt sample "
                        "tested against the population's with MMD (`workbench.distribution`).", [
    ("entity_type", "VARCHAR", "account or cohort."),
    ("entity_id", "VARCHAR", "Account id or cohort id (adversary-influenced)."),
    ("n", "BIGINT", "Prompts in the entity's sample."),
    ("mmd2", "DOUBLE", "Unbiased MMD² between the sample and the population sample."),
    ("null_q99", "DOUBLE", "99th percentile of MMD² of random population samples of size n."),
    ("p_value", "DOUBLE", "Share of those random samples at or above mmd2 (with +1 smoothing)."),
    ("percentile", "DOUBLE", "Rank of mmd2 among entities of this type with samples of about "
                             "this size, 0 to 1."),
], derived=True)

CASE_NOTES = _t("case_notes", "Investigator notes and tags on an actor, exported with the case.", [
    ("note_id", "VARCHAR", "Note id."),
    ("entity_type", "VARCHAR", "account, campaign, …"),
    ("entity_id", "VARCHAR", "Id of the entity noted."),
    ("tag", "VARCHAR", "Short tag, e.g. confirmed, benign, escalate."),
    ("note", "VARCHAR", "Free text."),
    ("author", "VARCHAR", "Who wrote it."),
    ("created_at", "TIMESTAMPTZ", "When."),
], pk=("note_id",), derived=True)

ACTOR_REQUESTS = _t("actor_requests", "The trace's narrow copy of requests, joined to their "
                    "features and campaign and sorted by (campaign_key, account_key, ts) so "
                    "that one actor's rows sit in a few row groups. Written by "
                    "`workbench.rollups.build_rollups` after linking; provenance in "
                    "`workbench_meta`.", [
    ("campaign_key", "UBIGINT", "hash(campaign_id); NULL for accounts in no campaign."),
    ("campaign_id", "VARCHAR", "leads.campaign_id of the account when the rollup was built."),
    ("account_key", "UBIGINT", "hash(account_id)."),
    ("account_id", "VARCHAR", "requests.account_id."),
    ("ts", "TIMESTAMPTZ", "requests.ts."),
    ("request_id", "VARCHAR", "requests.request_id."),
    ("sample_key", "SMALLINT", "hash(request_id) % 4096: a 1-in-k sample keeps "
                               "sample_key < 4096 / k."),
    *[(c, t, f"requests.{c}.") for c, t in (
        ("model", "VARCHAR"), ("access_path", "VARCHAR"), ("ip_prefix", "VARCHAR"),
        ("user_agent", "VARCHAR"), ("max_tokens", "INTEGER"), ("temperature", "DOUBLE"),
        ("top_p", "DOUBLE"), ("top_k", "INTEGER"), ("n_choices", "INTEGER"),
        ("stream", "BOOLEAN"), ("logprobs", "BOOLEAN"), ("top_logprobs", "INTEGER"),
        ("logit_bias_n", "INTEGER"), ("thinking_mode", "VARCHAR"),
        ("thinking_budget", "INTEGER"), ("tool_count", "INTEGER"), ("input_tokens", "INTEGER"),
        ("output_tokens", "INTEGER"), ("reasoning_tokens", "INTEGER"))],
    ("template_id", "VARCHAR", "features.template_id."),
    ("capability", "VARCHAR", "features.capability."),
    ("cot_flag", "BOOLEAN", "features.cot_flag."),
], derived=True)

TABLES: dict[str, Table] = {t.name: t for t in (
    REQUESTS, REQUEST_CONTENT, ACCOUNTS, MODEL_RELEASES, LOAD_BATCHES, QUARANTINE,
    FEATURES, DETECTOR_RUNS, FINDINGS, ACCOUNT_LINKS, LEADS, CAMPAIGNS, ACCOUNT_PROFILES,
    COHORTS, DISTRIBUTION_TESTS, CASE_NOTES, ACTOR_REQUESTS,
)}


def markdown() -> str:
    """Render docs/schema.md from the definitions above."""
    out = ["# Canonical case schema", "",
           "Generated by `python -m workbench.schema`; a contract test keeps it in step with "
           "`DESCRIBE` of a fresh case. Columns marked as adversary-controlled hold text the "
           "adversary wrote: the workbench always shows it escaped.", ""]
    for t in TABLES.values():
        kind = " (derived)" if t.derived else ""
        out += [f"## `{t.name}`{kind}", "", t.doc, ""]
        if t.primary_key:
            out += [f"Primary key: `{', '.join(t.primary_key)}`.", ""]
        out += ["| column | type | meaning |", "|---|---|---|"]
        out += [f"| `{c.name}` | {c.type} | {c.doc} |" for c in t.columns]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown())
