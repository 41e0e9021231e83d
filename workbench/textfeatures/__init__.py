"""Text features' building blocks: lexicons, normalisation, language, capability, SimHash.

Everything here is a polars expression or a numpy function over whole batches, so that
`workbench.features.feature_batch` stays one vectorised implementation for DuckDB and Spark.
"""
