"""A calibrated test of each account's and cohort's prompts against the case's own population.

After the MMD detector of arXiv 2606.05725: embed a sample of an entity's prompts, measure
the maximum mean discrepancy (MMD, RBF kernel) between them and a sample of the population's
prompts, and call it unusual when it exceeds what population-vs-population comparisons of the
same sample size give. Here:

- **Embedding**: `wordllama` (256 dimensions, weights and tokenizer shipped in its wheel, so it
  runs offline), mean-pooled over the first `max_tokens` tokens; or, when it is not installed
  or `[distribution] embedding = "hashing"`, hashed character n-grams with TF-IDF and SVD from
  scikit-learn (the lexical fallback, fitted on each run's own samples). A wordllama vector
  depends on its text alone, so each text is embedded once per process (a cohort's sample is
  drawn from its members' account samples; a rerun in a notebook draws the same samples), and
  a prompt is tokenized only as far as its first `max_tokens` tokens need: up to a word start
  near 5 characters a token, and only the prompts that fall short again up to 8.
- **Samples**: at most `per_account` prompts of each account (the same ones on every run: the
  lowest hashes of their request ids), at most `per_cohort` of each cohort spread over its
  members, and a population sample of `reference` prompts drawn evenly over accounts, so that a
  few busy accounts do not stand for the population.
- **Kernel**: random Fourier features (`features` of them) of an RBF kernel whose width is the
  median distance between population prompts; with them each entity's unbiased MMD² costs a few
  vector operations instead of a kernel matrix.
- **Calibration**: for each sample size, `null_draws` random pseudo-entities of that many
  population prompts give the null distribution; `p_value` is an entity's rank in it.
  Accounts are more alike within than a random draw of the population is, so nearly every
  account is "unusual" by this null alone (the paper's detector flags 30-60 % of ordinary
  individuals); `percentile` is therefore also kept, the entity's rank among entities of its
  kind with a sample of the same size, and the detectors use both.

It is one signal among several: enterprise pipelines and evaluation runners, whose prompts are
one template or one benchmark, score highest of all, so `queries/*/…distribution.sql` weigh it
low and never let it alone make a lead high. Results go to the `distribution_tests` table.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.errors import MissingDependencyError
from workbench.schema import DISTRIBUTION_TESTS

if TYPE_CHECKING:
    import duckdb

    from workbench.config import DistributionRules

Embed = Callable[[list[str]], np.ndarray]
#: Most vectors the wordllama embedding keeps for texts it may see again (about 1 KiB each).
MEMO_MAX = 200_000
#: Work counts of the wordllama embedding in this process: texts embedded, and texts whose
#: vector was already known.
embed_counts: dict[str, int] = {"embedded": 0, "reused": 0}
INSTALL = "pip install 'wordllama>=0.4' (or 'scikit-learn>=1.5' for the hashing fallback)"

# The sample's request ids are picked on ids alone and its text fetched for them only: a
# window that carried the prompt text would sort every request's text to keep 32 an account.
_SAMPLE = """
select r.account_id, r.request_id, substr(r.prompt_text, 1, $max_chars) as prompt
from requests as r
semi join (
    select request_id from requests
    where prompt_text is not null and prompt_text <> ''
    qualify row_number() over (partition by account_id order by hash(request_id), request_id)
            <= $per_account
) as picked using (request_id)
"""


def embedder(kind: str = "wordllama", max_tokens: int = 128) -> Embed:
    """A function from prompts to an (n, d) float32 array of embeddings.

    Example:
        >>> embed = embedder("hashing")
        >>> embed(["what is 2 + 2", "write a poem"]).shape[0]
        2
    """
    if kind == "wordllama":
        try:
            return _wordllama(max_tokens)
        except ModuleNotFoundError:
            kind = "hashing"
    if kind == "hashing":
        return _hashing
    msg = f"Unknown embedding {kind!r}; use 'wordllama' or 'hashing'."
    raise MissingDependencyError(msg)


@functools.cache
def _wordllama(max_tokens: int) -> Embed:
    from pathlib import Path

    import scipy.sparse as sp
    import wordllama
    from wordllama import WordLlama

    # The wheel ships the weights and tokenizer; its loader looks for the tokenizer elsewhere
    # unless pointed at the package folder, and must not try the network.
    model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    table = np.asarray(model.embedding, dtype=np.float32)
    tokenizer = model.tokenizer
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_tokens)

    # No token of the vocabulary holds "▁" (a space) after another character, so tokens never
    # cross the start of a word: the tokens of a text cut just before a word are the first
    # tokens of the whole text. Most prompts give `max_tokens` tokens well inside
    # SHORT x max_tokens characters, and only the rest are tokenized again up to LONG x
    # max_tokens (English averages under 5 characters a token).
    if any("▁" in t.lstrip("▁") for t in tokenizer.get_vocab()):
        msg = "wordllama's vocabulary has tokens that span words; the short cut would be wrong"
        raise MissingDependencyError(msg)
    short, long = _SHORT * max_tokens, _LONG * max_tokens

    # Each text's vector is a function of the text alone, so vectors are kept by a hash of
    # the text: a cohort's sample is drawn from its members' account samples (embedded a step
    # before), and a rerun in the same process draws the same samples again.
    memo: dict[bytes, np.ndarray] = {}

    def embed(texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, table.shape[1]), np.float32)
        keys = [hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16).digest()
                for t in texts]
        known = {k: memo[k] for k in keys if k in memo}
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in known}
        if todo:
            known.update(zip(todo, pooled(list(todo.values())), strict=True))
            if len(memo) + len(todo) > MEMO_MAX:
                memo.clear()
            if len(todo) <= MEMO_MAX:
                memo.update((k, known[k]) for k in todo)
        embed_counts["embedded"] += len(todo)
        embed_counts["reused"] += len(texts) - len(todo)
        return np.stack([known[k] for k in keys])

    def pooled(texts: list[str]) -> np.ndarray:
        cut = [t[:_word_start(t, short)] if len(t) > short else t for t in texts]
        enc = tokenizer.encode_batch(cut, add_special_tokens=False)
        again = [i for i, (t, c, e) in enumerate(zip(texts, cut, enc, strict=True))
                 if len(e.ids) < max_tokens and len(c) < len(t)]
        if again:
            for i, e in zip(again, tokenizer.encode_batch([texts[i][:long] for i in again],
                                                          add_special_tokens=False),
                            strict=True):
                enc[i] = e
        lens = np.fromiter((len(e.ids) for e in enc), dtype=np.int64, count=len(enc))
        ids = np.fromiter((i for e in enc for i in e.ids), dtype=np.int64, count=int(lens.sum()))
        indptr = np.concatenate([[0], np.cumsum(lens)])
        # mean pooling as a sparse (texts x vocabulary) count matrix times the table
        counts = sp.csr_matrix((np.ones(len(ids), np.float32), np.minimum(ids, len(table) - 1),
                                indptr), shape=(len(texts), len(table)))
        pooled = np.asarray(counts @ table, dtype=np.float32)
        # float32 throughout: the kernel's map is several times slower on float64
        return pooled / np.maximum(lens, 1).astype(np.float32)[:, None]

    return embed


_SHORT, _LONG = 5, 8  # characters a token, of the first cut and of the second


def _word_start(text: str, at: int) -> int:
    """The last start of a word (a space after a non-space) at or before `at`; 0 if none.

    A literal "▁" in the text reads as a space to the tokenizer, so it is never the non-space.
    """
    i = text.rfind(" ", 0, at + 1)
    while i > 0 and text[i - 1] in " ▁":
        i = text.rfind(" ", 0, i)
    return max(i, 0)


def _hashing(texts: list[str]) -> np.ndarray:
    try:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    except ModuleNotFoundError:
        msg = f"The distribution test needs an embedding: {INSTALL}."
        raise MissingDependencyError(msg) from None
    if not texts:
        return np.zeros((0, 64), np.float32)
    grams = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=2**16,
                              alternate_sign=False).transform(texts)
    tfidf = TfidfTransformer(sublinear_tf=True).fit_transform(grams)
    dims = max(1, min(64, tfidf.shape[0] - 1, tfidf.shape[1] - 1))
    return np.asarray(TruncatedSVD(dims, random_state=0).fit_transform(tfidf), dtype=np.float32)


class Kernel:
    """Random Fourier features of an RBF kernel sized on the population sample."""

    def __init__(self, reference: np.ndarray, features: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        sub = reference[rng.choice(len(reference), min(len(reference), 1000), replace=False)]
        sq = (sub * sub).sum(1)
        d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * sub @ sub.T, 0))
        d = d[np.triu_indices(len(sub), 1)]
        width = float(np.median(d[d > 0])) if (d > 0).any() else 1.0
        self.w = rng.normal(0, 1 / width, (reference.shape[1], features)).astype(np.float32)
        self.b = rng.uniform(0, 2 * np.pi, features).astype(np.float32)
        self.scale = np.float32(np.sqrt(2 / features))
        phi = self.map(reference)
        # half of the population sample stands for the population, the other half is the pool
        # the null draws come from: a draw from the same half as the mean would sit closer to
        # it than any real entity's sample does, and the null would be too lenient
        order = rng.permutation(len(phi))
        mean_half, pool_half = phi[order[::2]], phi[order[1::2]]
        self.mu_y = mean_half.mean(0)
        n = len(mean_half)
        s = mean_half.sum(0)
        self.k_yy = float((s @ s - (mean_half * mean_half).sum()) / (n * (n - 1)))
        self.reference_phi = pool_half

    def map(self, x: np.ndarray) -> np.ndarray:
        return self.scale * np.cos(x @ self.w + self.b)

    def mmd2(self, phi: np.ndarray) -> float:
        """Unbiased MMD² between the mapped sample `phi` and the population."""
        n = len(phi)
        if n < 2:
            return float("nan")
        s = phi.sum(0)
        k_xx = (s @ s - (phi * phi).sum()) / (n * (n - 1))
        return float(k_xx - 2 * (s / n) @ self.mu_y + self.k_yy)

    def null(self, n: int, draws: int, seed: int) -> np.ndarray:
        """MMD² of `draws` random pseudo-entities of `n` population prompts each."""
        rng = np.random.default_rng(seed)
        pool = self.reference_phi
        n = min(n, len(pool) // 2)
        return np.array([self.mmd2(pool[rng.choice(len(pool), n, replace=False)])
                         for _ in range(draws)])


def _stable_seed(*parts: Any) -> int:
    return int(hashlib.sha1(repr(parts).encode()).hexdigest()[:8], 16)


def _reference(con: duckdb.DuckDBPyConnection, rules: DistributionRules) -> list[str]:
    accounts = con.sql("select count(distinct account_id) from requests "
                       "where prompt_text is not null").fetchall()[0][0]
    each = max(1, -(-rules.reference // max(int(accounts), 1)))
    rows = con.execute("""
        select substr(r.prompt_text, 1, $max_chars) as prompt
        from requests as r
        join (
            select request_id, hash(request_id) as h
            from requests where prompt_text is not null and prompt_text <> ''
            qualify row_number() over (partition by account_id
                                       order by hash(request_id, 'reference'), request_id) <= $each
            order by h, request_id limit $reference
        ) as picked using (request_id)
        order by picked.h, r.request_id
    """, {"max_chars": rules.max_chars, "each": each,
          "reference": rules.reference}).fetchall()
    return [r[0] for r in rows]


def measure_accounts(con: duckdb.DuckDBPyConnection, rules: DistributionRules,
                  embed: Embed | None = None) -> int:
    """Replace the account rows of `distribution_tests`; return how many accounts were tested.

    Example:
        >>> import workbench as wb
        >>> from workbench.config import RiskConfig
        >>> with wb.open().connect(write=True) as con:
        ...     measure_accounts(con, RiskConfig.load().distribution, embedder("hashing"))
        0
    """
    con.execute(DISTRIBUTION_TESTS.ddl())
    con.execute("DELETE FROM distribution_tests WHERE entity_type = 'account'")
    samples = con.execute(_SAMPLE + " order by r.account_id, hash(r.request_id), r.request_id",
                          {"max_chars": rules.max_chars,
                                    "per_account": rules.per_account}).fetchall()
    if not samples:
        return 0
    groups: dict[str, list[str]] = {}
    for account, _, prompt in samples:
        groups.setdefault(account, []).append(prompt)
    return _test(con, "account", groups, rules, embed)


def measure_cohorts(con: duckdb.DuckDBPyConnection, rules: DistributionRules,
                 embed: Embed | None = None) -> int:
    """Replace the cohort rows of `distribution_tests` from `cohorts`, each cohort's sample
    spread over its members; return how many cohorts were tested."""
    con.execute(DISTRIBUTION_TESTS.ddl())
    con.execute("DELETE FROM distribution_tests WHERE entity_type = 'cohort'")
    rows = con.execute("""
        with s as (""" + _SAMPLE + """),
        spread as (
            select c.cohort_id, s.prompt,
                   row_number() over (partition by c.cohort_id, s.account_id
                                      order by hash(s.request_id), s.request_id) as k,
                   hash(c.cohort_id, s.account_id) as h
            from cohorts as c join s using (account_id)
        )
        select cohort_id, prompt from spread
        qualify row_number() over (partition by cohort_id order by k, h) <= $per_cohort
    """, {"max_chars": rules.max_chars, "per_account": rules.per_account,
          "per_cohort": rules.per_cohort}).fetchall()
    groups: dict[str, list[str]] = {}
    for cohort, prompt in rows:
        groups.setdefault(cohort, []).append(prompt)
    return _test(con, "cohort", groups, rules, embed) if groups else 0


def _test(con: duckdb.DuckDBPyConnection, entity_type: str, groups: dict[str, list[str]],
          rules: DistributionRules, embed: Embed | None) -> int:
    import polars as pl

    embed = embed or embedder(rules.embedding, rules.max_tokens)
    reference = _reference(con, rules)
    if len(reference) < 2 * rules.min_prompts:
        return 0
    names = [g for g, texts in groups.items() if len(texts) >= rules.min_prompts]
    if not names:
        return 0
    flat = [t for g in names for t in groups[g]]
    # one call, so that an embedding fitted on its input (the hashing fallback's SVD) puts the
    # population and the entities in the same space
    # each distinct text once (cohorts overlap: one account is in its org's, prefix's, card's
    # and sign-up day's cohorts)
    texts = reference + flat
    distinct = list(dict.fromkeys(texts))
    at_text = {t: i for i, t in enumerate(distinct)}
    vectors = embed(distinct)[np.fromiter((at_text[t] for t in texts), np.int64, len(texts))]
    vectors = vectors.astype(np.float32, copy=False)
    kernel = Kernel(vectors[:len(reference)], rules.features, seed=rules.seed)
    vectors = kernel.map(vectors[len(reference):])
    out, at = [], 0
    for g in names:
        n = len(groups[g])
        out.append((g, n, kernel.mmd2(vectors[at:at + n])))
        at += n
    nulls = {n: np.sort(kernel.null(n, rules.null_draws, _stable_seed(rules.seed, n)))
             for n in {n for _, n, _ in out}}
    frame = pl.DataFrame(out, schema={"entity_id": pl.String, "n": pl.Int64,
                                      "mmd2": pl.Float64}, orient="row")
    draws = rules.null_draws
    frame = frame.with_columns(
        pl.lit(entity_type).alias("entity_type"),
        pl.struct("n", "mmd2").map_elements(
            lambda r: float(np.quantile(nulls[r["n"]], 0.99)), return_dtype=pl.Float64)
        .alias("null_q99"),
        pl.struct("n", "mmd2").map_elements(
            lambda r: (1 + int(draws - np.searchsorted(nulls[r["n"]], r["mmd2"], "left")))
            / (draws + 1), return_dtype=pl.Float64).alias("p_value"),
        # rank among entities of this kind with a sample of the same size (a bucket of sizes)
        pl.col("mmd2").rank("average").over(pl.col("n").clip(rules.min_prompts, None)
                                            .log(2).floor()).alias("_r"),
        pl.len().over(pl.col("n").clip(rules.min_prompts, None).log(2).floor()).alias("_m"),
    ).with_columns((pl.col("_r") / pl.col("_m")).alias("percentile")).drop("_r", "_m")
    con.register("_dist_frame", frame)
    con.execute("INSERT INTO distribution_tests BY NAME SELECT * FROM _dist_frame")
    con.unregister("_dist_frame")
    return frame.height
