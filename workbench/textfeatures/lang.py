"""Language of a prompt from script shares and stopword votes (data/lexicons/languages.toml)."""

from __future__ import annotations

import polars as pl

from workbench.textfeatures.lexicons import load


def language(folded: pl.Series) -> pl.Series:
    """ISO 639-1 code of each folded prompt, `und` when unsure, NULL for NULL.

    Example:
        >>> import polars as pl
        >>> language(pl.Series(["¿cómo está el perro de mi vecino?", "ok", None])).to_list()
        ['es', 'und', None]
    """
    spec = load("languages")
    langs = list(spec["stopwords"])
    scripts = spec["scripts"]
    text = pl.col("text")

    def count(chars: str) -> pl.Expr:  # deleting the rest is faster than counting matches
        return text.str.replace_all(f"[^{chars}]+", "").str.len_chars()

    df = pl.DataFrame({"text": folded.str.slice(0, spec["max_chars"])}).with_columns(
        count(r"\p{L}").alias("letters"),
        count(spec["latin"]["chars"]).alias("latin"),
        *[count(s["chars"]).alias(f"s{i}") for i, s in enumerate(scripts)],
        *[text.str.contains(s["markers"]).alias(f"m{i}")
          for i, s in enumerate(scripts) if "markers" in s],
    ).with_row_index("_row")
    # stopword votes: one tokenising pass, then a join against the word -> language table
    stop = pl.DataFrame([(w, i) for i, k in enumerate(langs) for w in spec["stopwords"][k]],
                        schema={"word": pl.String, "li": pl.Int64}, orient="row").unique()
    votes = (df.select("_row", text.str.extract_all(r"\p{L}+").alias("word")).explode("word")
             .join(stop, on="word").group_by("_row", "li").len()
             .sort("len", "li", descending=[True, False])
             .group_by("_row", maintain_order=True)
             .agg(pl.col("li").first().alias("best_i"), pl.col("len").first().alias("best"),
                  pl.col("len").get(1, null_on_oob=True).fill_null(0).alias("second")))
    df = df.join(votes, on="_row", how="left", maintain_order="left").with_columns(
        pl.col("best").fill_null(0), pl.col("second").fill_null(0))
    letters = pl.col("letters")
    vote = (pl.when((pl.col("best") >= spec["min_hits"])
                    & (pl.col("best") > pl.col("second") * spec["margin"]))
            .then(pl.col("best_i").replace_strict(list(range(len(langs))), langs,
                                                  return_dtype=pl.String))
            .otherwise(pl.lit("und")))
    out: pl.Expr = (pl.when(pl.col("latin") >= letters * spec["latin_min_share"])
                    .then(vote).otherwise(pl.lit("und")))
    for i, s in reversed(list(enumerate(scripts))):
        name: pl.Expr = pl.lit(s["lang"])
        if "markers" in s:
            name = pl.when(pl.col(f"m{i}")).then(pl.lit(s["marker_lang"])).otherwise(name)
        out = pl.when(pl.col(f"s{i}") >= letters * s["min_share"]).then(name).otherwise(out)
    res = df.select(pl.when(text.is_null()).then(pl.lit(None, dtype=pl.String))
                    .when(letters < spec["min_letters"]).then(pl.lit("und"))
                    .otherwise(out).alias("lang"))
    return res["lang"]
