"""Data grids: ipydatagrid for tables an investigator clicks, quak for tables of millions.

Chosen on what an investigation needs (tried in JupyterLab, offline, with the planted XSS
case; tests/test_browser.py):

- `ipydatagrid.DataGrid` sorts and filters in the browser, reports the clicked row back to
  Python (`on_cell_click`, with the row's key whatever the sort), and draws cells on a canvas:
  markup in a cell is drawn as text, never parsed. It copies its rows into the browser, so it
  holds the board and the panels (hundreds of rows), never a whole request log.
- `quak.Widget` is DuckDB-backed: the browser asks for one page at a time, sorted and filtered
  by SQL, so a slice of millions of requests is never copied. It reports no row clicks, so it
  serves to browse, filter and export (`view.data()` is the filtered relation). It is only ever
  given the trace's private in-memory copy, never the case: its browser side sends SQL.

Cells from the logs go through `safe.visible` first (the canvas would draw a bidi override
as a reordering); times are shown in UTC with the zone, numbers with thousands separators.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workbench.safe import truncate, visible

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

CELL_CHARS = 200
ROW_PX = 22
HEADER_PX = 24


def column_widths(frame: pd.DataFrame, char_px: int = 7) -> dict[str, int]:
    """Pixel widths that fit each column's longest shown value (within bounds), so cells do
    not cut mid-number ("0.9/99") or mid-word."""
    out = {}
    for name in frame.columns:
        longest = max([len(str(name)) + 2, *(len(f"{v:,}" if isinstance(v, int) else str(v))
                                             for v in frame[name].head(200))])
        out[str(name)] = max(60, min(420, char_px * longest + 20))
    return out


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, list | tuple):
        value = ", ".join("–" if v is None else str(v) for v in value)
    if isinstance(value, dict):
        import json

        value = json.dumps(value, ensure_ascii=False, default=str)
    cut, was_cut = truncate(visible(str(value)), CELL_CHARS)
    return cut + ("…" if was_cut else "")


def display_frame(df: pl.DataFrame) -> pd.DataFrame:
    """The frame as the grid shows it: text made visible and cut, times in UTC with the zone;
    numbers stay numbers (the grid sorts them as numbers and shows separators)."""
    import pandas as pd
    import polars as pl

    out: dict[str, Any] = {}
    for name, dtype in df.schema.items():
        col = df[name]
        if dtype.is_numeric() and dtype != pl.Boolean:
            out[name] = col.to_list()
        else:
            out[name] = [_text(v) for v in col.to_list()]
    frame = pd.DataFrame(out, columns=df.columns)
    return frame


def _renderers(df: pl.DataFrame) -> dict[str, Any]:
    from ipydatagrid import TextRenderer

    out = {}
    for name, dtype in df.schema.items():
        if dtype.is_integer():
            out[name] = TextRenderer(format=",d", horizontal_alignment="right")
        elif dtype.is_float():
            out[name] = TextRenderer(format=",.3~f", horizontal_alignment="right")
    return out


def grid(df: pl.DataFrame, on_row: Callable[[dict[str, Any]], None] | None = None, *,
         height: int = 320, widths: dict[str, int] | None = None) -> Any:
    """A DataGrid of `df`; a click on a row calls `on_row` with that row of `df` (raw values).

    Example:
        >>> import polars as pl
        >>> g = grid(pl.DataFrame({"id": ["<b>x</b>"], "n": [1200]}))
        >>> g.data["id"].tolist()
        ['<b>x</b>']
    """
    from ipydatagrid import DataGrid

    shown = display_frame(df)
    g = DataGrid(shown, selection_mode="row" if on_row else "none",
                 base_column_size=130, base_row_size=ROW_PX, header_visibility="column",
                 base_column_header_size=HEADER_PX,
                 column_widths={**column_widths(shown), **(widths or {})},
                 renderers=_renderers(df),
                 layout={"height": f"{min(height, 30 + 22 * max(df.height, 1))}px"})
    g.source = df  # raw rows, for the click handler and for export
    if on_row is not None:
        def clicked(cell: dict[str, Any]) -> None:
            row = cell.get("primary_key_row")
            if cell.get("region") == "body" and row is not None and 0 <= row < df.height:
                on_row(df.row(int(row), named=True))

        g.on_cell_click(clicked)
    return g


def click_row(g: Any, index: int) -> None:
    """What the browser sends when the investigator clicks row `index` (tests, notebooks)."""
    g._cell_click_handlers({"region": "body", "column": g.data.columns[0], "column_index": 0,
                            "row": index, "primary_key_row": index,
                            "cell_value": g.data.iloc[index, 0]})


def big_table(con: Any, table: str) -> Any:
    """A quak grid over a table of a private in-memory DuckDB connection (never the case's)."""
    import quak

    return quak.Widget(con, table=table)
