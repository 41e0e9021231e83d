"""Investigator notes and tags on an actor, saved in the case's `case_notes` table.

Notebooks open the case read-only, yet a note must land in the case so that it is exported
with it. A note from a read-only case is therefore written through a brief write connection of
its own: it waits for a held lock (another process loading) up to the case's `lock_timeout`,
inserts one row with bound values, and closes at once, so the notebook never keeps the file
locked. An in-memory case writes to its own database.
"""

from __future__ import annotations

import getpass
import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from workbench.errors import ParameterError, unknown

if TYPE_CHECKING:
    import polars as pl

    from workbench.case import Case

ENTITY_TYPES = ("account", "api_key", "campaign", "ip_prefix", "org", "payment_fingerprint",
                "request", "template")
TAG_RULE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,31}$")
MAX_NOTE = 10_000


def _author() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


def add_note(case: Case, entity_type: str, entity_id: str, note: str, tag: str | None = None,
             author: str | None = None) -> str:
    """Save a note (and optional tag) on an actor in `case_notes`; return the note's id.

    Works on a case opened read-only too (see the module docstring for how).

    Example:
        >>> import workbench as wb
        >>> case = wb.open()
        >>> note_id = add_note(case, "account", "acct-1", "same card as acct-2", tag="escalate")
        >>> notes(case, "account", "acct-1")["tag"].to_list()
        ['escalate']
    """
    if entity_type not in ENTITY_TYPES:
        err = unknown("entity type", entity_type, ENTITY_TYPES)
        raise err
    if not entity_id:
        msg = "A note needs the id of the entity it is about; got an empty entity_id."
        raise ParameterError(msg)
    text = (note or "").strip()
    if not text and not tag:
        msg = "Empty note: give some text, a tag (e.g. tag='escalate'), or both."
        raise ParameterError(msg)
    if len(text) > MAX_NOTE:
        msg = (f"Note is {len(text):,} characters; the limit is {MAX_NOTE:,}. Shorten it or "
               "keep the long text in a file and note its path.")
        raise ParameterError(msg)
    if tag is not None and not TAG_RULE.match(tag):
        msg = (f"Tag {tag!r} is not allowed: use 1-32 lowercase letters, digits, '-' or '_', "
               "e.g. 'confirmed', 'benign', 'escalate'.")
        raise ParameterError(msg)
    note_id = uuid.uuid4().hex
    params = {"note_id": note_id, "entity_type": entity_type, "entity_id": entity_id,
              "tag": tag, "note": text, "author": author or _author(),
              "created_at": datetime.now(UTC)}
    query = ("insert into case_notes (note_id, entity_type, entity_id, tag, note, author, "
             "created_at) values ($note_id, $entity_type, $entity_id, $tag, $note, $author, "
             "$created_at)")
    # a note is the one write a read-only case allows (a notebook opens its case read-only)
    with case.connect(write=True, despite_read_only=True) as con:
        con.execute(query, params)
    case.audit("note", entity_type=entity_type, tag=tag)
    return note_id


def notes(case: Case, entity_type: str | None = None,
          entity_id: str | None = None) -> pl.DataFrame:
    """Notes in the case, newest first, optionally only those on one entity type or entity.

    Example:
        >>> import workbench as wb
        >>> notes(wb.open()).columns[:3]
        ['note_id', 'entity_type', 'entity_id']
    """
    if entity_type is not None and entity_type not in ENTITY_TYPES:
        err = unknown("entity type", entity_type, ENTITY_TYPES)
        raise err
    return case.sql(
        "select note_id, entity_type, entity_id, tag, note, author, created_at from case_notes "
        "where ($t::VARCHAR is null or entity_type = $t) "
        "and ($i::VARCHAR is null or entity_id = $i) order by created_at desc, note_id",
        t=entity_type, i=entity_id)
