"""The detector catalogue: parse and validate the `-- key: value` headers of `queries/*/*.sql`.

A detector is one SQL file. Its header is a block of comment lines at the top of the file, so
the file still runs as is in the DuckDB CLI (after `SET VARIABLE`-free binding of its `$name`
parameters). Keys that hold lists (`references`, `falsepositives`, `param`) repeat, one item a
line; a line `--   more text` (two or more spaces after `--`) continues the previous value.

Param lines read `-- param: NAME TYPE DEFAULT Description`, TYPE one of int, float, str, bool.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from workbench.errors import CatalogueError, ParameterError, did_you_mean, unknown

if TYPE_CHECKING:
    import polars as pl

LEVELS = ("informational", "low", "medium", "high", "critical")
HIGH_SCORE = 0.8
MID_SCORE = 0.5
LEVEL_RULE = (f"A finding's level is its detector's declared level when score ≥ {HIGH_SCORE}, "
              f"one level lower when {MID_SCORE} ≤ score < {HIGH_SCORE}, and two levels lower "
              f"below {MID_SCORE} (never below informational).")
STATUSES = ("experimental", "test", "stable", "deprecated")
ENTITIES = ("account", "org", "api_key", "ip_prefix", "payment_fingerprint", "user_agent",
            "email_domain", "end_user", "cohort")
# `cohorts`: a cohort detector, run after linking over account_profiles and cohorts;
# `distribution`: reads distribution_tests (workbench.distribution), computed when needed.
REQUIRES = ("features", "accounts", "model_releases", "cohorts", "distribution")
PARAM_TYPES = ("int", "float", "str", "bool")
REQUIRED_KEYS = ("id", "name", "title", "status", "level", "description", "entity", "tags",
                 "references", "falsepositives", "portable")
LIST_KEYS = ("references", "falsepositives", "param")
_KNOWN_KEYS = (*REQUIRED_KEYS, "param", "requires")
_LINE = re.compile(r"^--\s?([a-z_]+):\s*(.*)$")
_CONT = re.compile(r"^--\s{2,}(\S.*)$")
_TAG = re.compile(r"^atlas\.aml\.t\d{4}(\.\d{3})?$")
_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Param:
    """One declared detector parameter."""

    name: str
    type: str
    default: Any
    doc: str


@dataclass(frozen=True)
class Detector:
    """One detector file: its header and its SQL body."""

    path: Path
    area: str
    header: dict[str, Any]
    sql: str
    params: tuple[Param, ...] = field(default=())

    @property
    def name(self) -> str:
        return str(self.header["name"])

    @property
    def id(self) -> str:
        return str(self.header["id"])

    @property
    def level(self) -> str:
        return str(self.header["level"])

    @property
    def requires(self) -> tuple[str, ...]:
        return tuple(self.header.get("requires", ()))

    @property
    def version(self) -> str:
        """Hash of the file's text: changes whenever the detector does."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()[:12]

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def bind(self, given: dict[str, Any]) -> dict[str, Any]:
        """Merge `given` over the defaults, rejecting unknown names and ill-typed values."""
        declared = {p.name: p for p in self.params}
        out = self.defaults()
        for key, value in given.items():
            if key not in declared:
                msg = (f"Unknown parameter {key!r} for detector {self.name}."
                       f"{did_you_mean(key, declared)} Declared: "
                       f"{', '.join(sorted(declared)) or 'none'}.")
                raise ParameterError(msg)
            out[key] = coerce(declared[key], value, self.name)
        return out


def finding_level(declared: str, score: float) -> str:
    """The level of one finding, from its detector's declared level and its score.

    Example:
        >>> finding_level("high", 0.9), finding_level("high", 0.6), finding_level("low", 0.1)
        ('high', 'medium', 'informational')
    """
    steps = 0 if score >= HIGH_SCORE else 1 if score >= MID_SCORE else 2
    return LEVELS[max(LEVELS.index(declared) - steps, 0)]


def level_steps(declared: str) -> tuple[str, str, str]:
    """The levels of a detector's findings at high, middle and low scores (see LEVEL_RULE)."""
    i = LEVELS.index(declared)
    return LEVELS[i], LEVELS[max(i - 1, 0)], LEVELS[max(i - 2, 0)]


def coerce(param: Param, value: Any, detector: str = "") -> Any:
    """Check (or convert, from a string) a value against a param's declared type.

    Example:
        >>> coerce(Param("min_requests", "int", 200, ""), "50")
        50
    """
    where = f"{detector}.{param.name}" if detector else param.name
    if isinstance(value, str) and param.type != "str":
        try:
            return _parse(param.type, value)
        except ValueError:
            msg = (f"Parameter {where} must be {param.type}, got {value!r}. "
                   f"Give a {param.type} such as {param.default!r}.")
            raise ParameterError(msg) from None
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "str": isinstance(value, str),
        "bool": isinstance(value, bool),
    }[param.type]
    if not ok:
        msg = (f"Parameter {where} must be {param.type}, got {value!r} "
               f"({type(value).__name__}). Give a {param.type} such as {param.default!r}.")
        raise ParameterError(msg)
    return float(value) if param.type == "float" else value


def _parse(kind: str, text: str) -> Any:
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        msg = f"not a bool: {text!r}"
        raise ValueError(msg)
    return text


def queries_dir() -> Path:
    """Where the detector files are: inside the installed package, else the repo's queries/."""
    here = Path(__file__).resolve().parent
    shipped = here / "queries"
    return shipped if shipped.is_dir() else here.parent / "queries"


def parse(path: Path) -> Detector:
    """Parse and validate one detector file; raise CatalogueError naming the file and the rule.

    Example:
        >>> d = parse(queries_dir() / "content" / "cot_elicitation.sql")
        >>> d.name, d.header["entity"]
        ('cot_elicitation', 'account')
    """
    text = path.read_text(encoding="utf-8")
    header: dict[str, Any] = {k: [] for k in LIST_KEYS}
    last: str | None = None
    body_start = 0
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("--"):
            body_start = i
            break
        if (m := _CONT.match(line)) and last is not None:
            if last in LIST_KEYS:
                header[last][-1] += " " + m.group(1).strip()
            else:
                header[last] += " " + m.group(1).strip()
            continue
        m = _LINE.match(line)
        if not m:
            _fail(path, f"header line {i + 1} {line!r} is not '-- key: value'")
        key, value = m.group(1), m.group(2).strip()
        if key not in _KNOWN_KEYS:
            _fail(path, str(unknown("header key", key, _KNOWN_KEYS)))
        if key in LIST_KEYS:
            header[key].append(value)
        elif key in header:
            _fail(path, f"header key {key!r} given twice")
        else:
            header[key] = value
        last = key
    else:
        body_start = len(lines)
    sql = "\n".join(lines[body_start:]).strip().rstrip(";").strip()
    header, params = _validate(path, header, sql)
    return Detector(path, path.parent.name, header, sql, params)


def _fail(path: Path, why: str) -> NoReturn:
    msg = f"Detector file {path.parent.name}/{path.name}: {why}."
    raise CatalogueError(msg)


def _validate(path: Path, h: dict[str, Any], sql: str) -> tuple[dict[str, Any], tuple[Param, ...]]:
    missing = [k for k in REQUIRED_KEYS if not h.get(k)]
    if missing:
        _fail(path, f"header lacks {', '.join(missing)}; every detector declares "
                    f"{', '.join(REQUIRED_KEYS)}")
    try:
        uuid.UUID(h["id"])
    except ValueError:
        _fail(path, f"id {h['id']!r} is not a UUID; generate one with python -c "
                    "'import uuid; print(uuid.uuid4())'")
    if h["name"] != path.stem:
        _fail(path, f"name {h['name']!r} differs from the file stem {path.stem!r}")
    for key, allowed in (("status", STATUSES), ("level", LEVELS), ("entity", ENTITIES)):
        if h[key] not in allowed:
            _fail(path, f"{key} {h[key]!r} is not one of {', '.join(allowed)}")
    if not h["description"].startswith("Detects"):
        _fail(path, "description must start with 'Detects'")
    h["tags"] = [t.strip() for t in h["tags"].split(",") if t.strip()]
    if bad := [t for t in h["tags"] if not _TAG.match(t)]:
        _fail(path, f"tags {bad} are not MITRE ATLAS ids like atlas.aml.t0024.002")
    port = h["portable"]
    if port != "true" and not (port.startswith("false") and len(port) > len("false, ")):
        _fail(path, f"portable {port!r} must be 'true' or 'false, <why>'")
    h["portable"] = port == "true"
    h["portable_note"] = "" if h["portable"] else port.split(",", 1)[-1].strip()
    req = [r.strip() for r in h.get("requires", "").split(",") if r.strip()]
    if bad := [r for r in req if r not in REQUIRES]:
        _fail(path, f"requires {bad} not among {', '.join(REQUIRES)}")
    h["requires"] = req
    params = []
    for line in h.pop("param"):
        parts = line.split(None, 3)
        if len(parts) < 4 or parts[1] not in PARAM_TYPES or not _PARAM_NAME.match(parts[0]):
            _fail(path, f"param line {line!r} must read 'NAME TYPE DEFAULT Description' with "
                        f"TYPE one of {', '.join(PARAM_TYPES)}")
        try:
            default = _parse(parts[1], parts[2])
        except ValueError:
            _fail(path, f"default {parts[2]!r} of param {parts[0]} is not a {parts[1]}")
        params.append(Param(parts[0], parts[1], default, parts[3]))
    if not sql.lower().startswith("with") or not re.search(r"from\s+final\s*$", sql, re.I):
        _fail(path, "the body must be one CTE-first statement ending in 'select … from final'")
    return h, tuple(params)


@functools.cache
def _load(root: Path, stamp: tuple[tuple[str, float], ...]) -> dict[str, Detector]:
    out: dict[str, Detector] = {}
    for name, _ in stamp:
        det = parse(root / name)
        if det.name in out:
            _fail(det.path, f"name {det.name!r} also used by {out[det.name].path}")
        out[det.name] = det
    return out


def detectors(root: Path | None = None) -> dict[str, Detector]:
    """Every detector file under `root` (default: the shipped queries/), by name."""
    root = root or queries_dir()
    files = sorted(root.glob("*/*.sql"))
    stamp = tuple((str(f.relative_to(root)), f.stat().st_mtime) for f in files)
    return _load(root, stamp)


def get(name: str, root: Path | None = None) -> Detector:
    """One detector by name; unknown names answer with the closest ones."""
    found = detectors(root)
    if name not in found:
        err = unknown("detector", name, found)
        raise err
    return found[name]


def catalogue(root: Path | None = None) -> pl.DataFrame:
    """The catalogue as a DataFrame, one row per detector (deprecated ones included).

    Example:
        >>> cat = catalogue()
        >>> {"name", "level", "entity", "params"} <= set(cat.columns)
        True
    """
    import polars as pl

    rows = []
    for d in detectors(root).values():
        h = d.header
        rows.append({
            "name": d.name, "area": d.area, "title": h["title"], "status": h["status"],
            "level": h["level"], "entity": h["entity"], "description": h["description"],
            "tags": h["tags"], "references": h["references"],
            "falsepositives": h["falsepositives"], "requires": h["requires"],
            "portable": h["portable"], "portable_note": h["portable_note"],
            "params": [{"name": p.name, "type": p.type, "default": str(p.default),
                        "doc": p.doc} for p in d.params],
            "id": d.id, "version": d.version, "path": str(d.path),
        })
    return pl.DataFrame(rows).sort(["area", "name"]) if rows else pl.DataFrame()


def markdown(root: Path | None = None) -> str:
    """docs/detectors.md, generated from the headers."""
    dets = sorted(detectors(root).values(), key=lambda d: (d.area, d.name))
    out = ["# Detector catalogue", "",
           "Generated by `python -m workbench.detectors --markdown > docs/detectors.md` from the "
           "headers of `queries/<area>/<name>.sql`; a test keeps it current.", "",
           "Every detector returns `entity_type, entity_id, score (0..1), evidence, first_seen, "
           "last_seen`. " + LEVEL_RULE, "",
           "| area | name | level | entity | title |", "|---|---|---|---|---|"]
    out += [f"| {d.area} | [`{d.name}`](#{d.name}) | {d.level} | {d.header['entity']} | "
            f"{d.header['title']} |" for d in dets]
    for d in dets:
        h = d.header
        out += ["", f"## {d.name}", "", f"**{h['title']}** · `{d.area}/{d.name}.sql` · "
                f"status {h['status']} · level {h['level']} · entity {h['entity']} · "
                f"id `{d.id}`", "", h["description"], ""]
        if d.params:
            out += ["| param | type | default | meaning |", "|---|---|---|---|"]
            out += [f"| `{p.name}` | {p.type} | {p.default} | {p.doc} |" for p in d.params]
            out.append("")
        out.append(f"- Tags: {', '.join(h['tags'])}")
        if h["requires"]:
            out.append(f"- Requires: {', '.join(h['requires'])}")
        out.append("- Portable to Spark: " + ("yes" if h["portable"] else
                                               f"no ({h['portable_note']})"))
        out += ["- False positives:"] + [f"  - {f}" for f in h["falsepositives"]]
        out += ["- References:"] + [f"  - {r}" for r in h["references"]]
    return "\n".join(out) + "\n"
