"""Text features' building blocks: lexicons, normalisation, language, capability, SimHash.

Everything here is a polars expression or a numpy function over whole batches, so that
`workbench.features.feature_batch` stays one vectorised implementation for DuckDB and Spark.
`prefilter` runs many lexicon regexes through one Aho-Corasick pass; `corpus` reads the public
prompt corpus for measuring the features (benchmarks and optional tests only).
"""
