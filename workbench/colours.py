"""One colour per model in every chart of every trace and report.

A model's colour comes from its name, not from its rank among the models one chart happens to
show, so a model has one colour in the trace, a comparison and the report.
"""

from __future__ import annotations

import zlib

# One colour per model in every chart of every trace (and the report): a model's colour comes
# from its name, not from its rank among the models one chart happens to show.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
           "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5", "#393b79")


def model_colour(model: str) -> str:
    """The colour of a model, the same in every chart.

    Example:
        >>> model_colour("m-large") == model_colour("m-large")
        True
    """
    return PALETTE[zlib.crc32(model.encode("utf-8")) % len(PALETTE)]
