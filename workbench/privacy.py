"""What a hand-over may carry: the campaign's own accounts only, keyed hashes when asked.

The report and the indicators leave the provider. They name the campaign's accounts and the
values those accounts used; an account outside the campaign is never named, only counted
(`outside_accounts`), and its requests never shown. Detector evidence is written for
investigators and may name a synchronised partner or an example request of anyone: `scrub`
replaces every such id with a neutral placeholder before the evidence is shown.

For sharing between providers, `Redactor` replaces e-mail addresses and domains, IP addresses
and prefixes and payment fingerprints with keyed hashes (HMAC-SHA256 with a key the
investigator gives, or one kept in the case): two providers holding the same key see the same
token for the same value, nobody without it can reverse one. Files are written with
`write_private`: mode 0600, atomically (a reader never sees half a report).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import CaseError, ParameterError

if TYPE_CHECKING:
    from workbench.case import Case

OUTSIDE_ACCOUNT = "(an account outside the campaign)"
OUTSIDE_REQUEST = "(a request of an account outside the campaign)"
KEY_META = "redaction_key"
# Kinds of values redacted, and the prefix of their token.
KINDS = {"email": "email", "email_domain": "email", "ip": "ip", "ip_prefix": "ip",
         "client_ip": "ip", "payment_fingerprint": "pay"}
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,7}(?::|[0-9a-fA-F]{1,4})?"
                   r"(?::[0-9a-fA-F]{1,4})*(?:/\d{1,3})?(?![\w:])")


class Redactor:
    """Keyed hashes of e-mails, IPs and payment fingerprints, in values and in free text.

    Example:
        >>> r = Redactor(b"k")
        >>> r.value("payment_fingerprint", "pf-1") == r.value("payment_fingerprint", "pf-1")
        True
        >>> r.text("mail bob@evil.example from 10.1.2.3").startswith("mail email:")
        True
    """

    def __init__(self, key: bytes, known: Iterable[tuple[str, str]] = ()) -> None:
        self.key = key
        # Exact values known to be sensitive (a fingerprint matches no pattern), longest first
        # so that a value containing another is replaced whole.
        self._known = sorted({(v, k) for k, v in known if v}, key=lambda kv: -len(kv[0]))

    def token(self, kind: str, value: str) -> str:
        digest = hmac.new(self.key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{KINDS.get(kind, kind)}:{digest[:16]}"

    def value(self, kind: str, value: Any) -> Any:
        """The token of one value of a sensitive kind; other kinds pass through `text`."""
        if value is None:
            return None
        if kind in KINDS:
            return self.token(kind, str(value))
        return self.text(value)

    def text(self, value: Any) -> Any:
        """Free text with known sensitive values, e-mail addresses and IPs replaced."""
        if not isinstance(value, str):
            return value
        s = value
        for known, kind in self._known:
            if known in s:
                s = s.replace(known, self.token(kind, known))
        s = _EMAIL.sub(lambda m: self.token("email", m.group(0)), s)
        s = _IPV4.sub(lambda m: self.token("ip", m.group(0)), s)
        return _IPV6.sub(lambda m: self.token("ip", m.group(0))
                         if m.group(0).count(":") >= 2 and any(c.isdigit() for c in m.group(0))
                         else m.group(0), s)

    def deep(self, node: Any) -> Any:
        """`text` applied to every string of a JSON-like structure."""
        if isinstance(node, dict):
            return {k: self.value(k, v) if k in KINDS and isinstance(v, str) else self.deep(v)
                    for k, v in node.items()}
        if isinstance(node, list):
            return [self.deep(v) for v in node]
        return self.text(node)

    def frame(self, frame: Any) -> Any:
        """A polars DataFrame with sensitive columns hashed and other text columns redacted."""
        import polars as pl

        cols = []
        for name, dtype in frame.schema.items():
            if dtype == pl.String:
                fn: Any = functools.partial(self.value, name) if name in KINDS else self.text
                cols.append(pl.col(name).map_elements(fn, return_dtype=pl.String))
            elif isinstance(dtype, pl.List) and dtype.inner == pl.String:
                cols.append(pl.col(name).map_elements(
                    lambda vs: [self.text(v) for v in vs], return_dtype=dtype))
        return frame.with_columns(cols) if cols else frame


def redaction_key(case: Case, key: str | bytes | None = None) -> bytes:
    """The HMAC key: the one given, else the case's own (created on first use and kept in
    `workbench_meta`, so every hand-over of the case uses the same tokens)."""
    if key is not None:
        raw = key.encode("utf-8") if isinstance(key, str) else key
        if len(raw) < 8:
            msg = (f"Redaction key is {len(raw)} bytes; give at least 8 (a passphrase shared "
                   "with the other provider), or omit it to use the case's own key.")
            raise ParameterError(msg)
        return raw
    rows = case.sql("select value from workbench_meta where key = $k", k=KEY_META)
    if rows.height:
        return bytes.fromhex(rows["value"][0])
    new = secrets.token_hex(32)
    query = "insert or ignore into workbench_meta values ($k, $v)"
    if case.path is None or not case.read_only:
        case.execute(query, k=KEY_META, v=new)
    else:
        import duckdb

        # like a note, the key is a write a read-only case allows (a notebook opens it so)
        try:
            with case.connect(write=True, despite_read_only=True) as con:
                con.execute(query, {"k": KEY_META, "v": new})
        except (OSError, duckdb.IOException) as exc:
            msg = (f"Cannot store a redaction key in {str(case.path)!r} ({exc}); give one "
                   "with --redact-key.")
            raise CaseError(msg) from None
    return bytes.fromhex(case.sql("select value from workbench_meta where key = $k",
                                  k=KEY_META)["value"][0])


def redactor(case: Case, campaign: str, key: str | bytes | None = None) -> Redactor:
    """A Redactor that also knows the campaign's fingerprints, prefixes, IPs and domains."""
    known = case.sql("""
        with m as (select account_id from leads where campaign_id = $c)
        select distinct 'payment_fingerprint' as k, payment_fingerprint as v
        from accounts semi join m using (account_id)
        union select distinct 'email_domain', email_domain
        from accounts semi join m using (account_id)
        union select distinct 'ip_prefix', ip_prefix from requests semi join m using (account_id)
        union select distinct 'client_ip', client_ip from requests semi join m using (account_id)
    """, c=campaign)
    return Redactor(redaction_key(case, key), [(k, v) for k, v in known.iter_rows()])


def _strings(node: Any, out: set[str]) -> None:
    if isinstance(node, str):
        out.add(node)
        if ":" in node:
            out.add(node.split(":", 1)[1])
    elif isinstance(node, dict):
        for v in node.values():
            _strings(v, out)
    elif isinstance(node, list):
        for v in node:
            _strings(v, out)


def outsiders(case_con: Any, campaign: str, strings: Iterable[str]) -> dict[str, str]:
    """Which of `strings` are account or request ids outside the campaign, and their placeholder.

    `case_con` is an open case connection (or anything with DuckDB's `.sql(q, params=...)`).
    """
    wanted = sorted(set(strings))
    if not wanted:
        return {}
    rows = case_con.sql("""
        with m as (select account_id from leads where campaign_id = $c),
        s as (select unnest($s::VARCHAR[]) as v)
        select v, 'account' from s where v in (select account_id from accounts
                                               union select account_id from leads)
            and v not in (select account_id from m)
        union
        select v, 'account' from s semi join (select distinct account_id from requests) r
            on r.account_id = s.v where v not in (select account_id from m)
        union
        select r.request_id, 'request' from requests r semi join s on s.v = r.request_id
            where r.account_id not in (select account_id from m)
    """, params={"c": campaign, "s": wanted}).fetchall()
    return {v: OUTSIDE_ACCOUNT if kind == "account" else OUTSIDE_REQUEST for v, kind in rows}


def scrub(node: Any, replace: dict[str, str]) -> Any:
    """The structure with every outside id (alone, or after a `type:` prefix) replaced.

    Example:
        >>> scrub({"best_partner": "acct-9", "via": "account:acct-9"}, {"acct-9": "(out)"})
        {'best_partner': '(out)', 'via': 'account:(out)'}
    """
    if isinstance(node, dict):
        return {k: scrub(v, replace) for k, v in node.items()}
    if isinstance(node, list):
        return [scrub(v, replace) for v in node]
    if isinstance(node, str):
        if node in replace:
            return replace[node]
        head, sep, tail = node.partition(":")
        if sep and tail in replace:
            return f"{head}:{replace[tail]}"
    return node


def scrub_text(text: str | None, replace: dict[str, str]) -> str | None:
    """Free text with every outside id it contains replaced."""
    if not text:
        return text
    for value in sorted(replace, key=len, reverse=True):
        if value in text:
            text = text.replace(value, replace[value])
    return text


def strings_in(*nodes: Any) -> set[str]:
    """Every string in the given JSON-like structures (and the part after a `type:` prefix)."""
    out: set[str] = set()
    for n in nodes:
        _strings(n, out)
    return out


def write_private(path: str | os.PathLike[str], text: str) -> Path:
    """Write a hand-over file readable by its owner only (0600), atomically.

    Example:
        >>> import tempfile, pathlib
        >>> p = write_private(pathlib.Path(tempfile.mkdtemp()) / "r.md", "x")
        >>> oct(p.stat().st_mode & 0o777)
        '0o600'
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        Path(tmp).chmod(0o600)
        Path(tmp).replace(out)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    return out
