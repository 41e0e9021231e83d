"""The linking and scoring configuration (`workbench/data/risk.toml`), read once, typed.

`RiskConfig.load()` parses the file into frozen dataclasses and checks every section and key
against them, so a misspelt key is an error naming the closest one instead of a silently
ignored setting. Linking (`workbench.linking`) and scoring (`workbench.scoring`) take the one
object; `RiskConfig.replace("campaigns.lift", 0.6)` gives a changed copy (the evaluation's
sensitivity sweep moves one knob at a time this way).
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from workbench.errors import ParameterError, unknown

if TYPE_CHECKING:
    import duckdb

DEFAULT_PATH = Path(__file__).parent / "data" / "risk.toml"
#: A lead's levels, lowest first (a finding's levels are the catalogue's, informational..critical).
LEAD_LEVELS = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class Gate:
    """`[gate]`: which evidence may make a lead high (see docs/evaluation.md)."""

    specific: tuple[str, ...]
    coordination: tuple[str, ...]
    min_specific: float
    campaign_quantile: float
    min_tie: float
    cap: float


@dataclass(frozen=True)
class PairBonus:
    """`[pair_bonus]`: weight added to a weak pair whose accounts share a specific detector."""

    floor: float
    exclude: tuple[str, ...]
    min_score: float
    bonus: float


@dataclass(frozen=True)
class CampaignRules:
    """`[campaigns]`: how the pair graph becomes campaigns and how membership lifts risk."""

    min_pair_weight: float
    resolution: float
    seed: int
    min_accounts: int
    attach: float
    attach_share: float
    attach_kinds: tuple[str, ...]
    merge_tie: float
    min_risk: float
    lift: float
    tie_full: float
    top_detectors: int
    top_links: int


@dataclass(frozen=True)
class CohortRules:
    """`[cohorts]`: which groups of accounts the cohort detectors judge."""

    kinds: tuple[str, ...]
    min_accounts: int
    max_accounts: int
    prefix_share: float
    signup_hours: int
    link_detectors: tuple[str, ...]
    link_kinds: tuple[str, ...]
    link_min_score: float
    neighbours: int


@dataclass(frozen=True)
class DistributionRules:
    """`[distribution]`: the samples, embedding and kernel of `workbench.distribution`."""

    embedding: str
    max_tokens: int
    max_chars: int
    per_account: int
    per_cohort: int
    reference: int
    min_prompts: int
    features: int
    null_draws: int
    seed: int


@dataclass(frozen=True)
class RiskConfig:
    """Every weight and threshold of linking and scoring. Create with `RiskConfig.load()`.

    Example:
        >>> cfg = RiskConfig.load()
        >>> cfg.levels["high"] > cfg.levels["medium"], cfg.campaigns.min_accounts
        (True, 2)
        >>> cfg.replace("campaigns.lift", 0.5).campaigns.lift
        0.5
    """

    levels: Mapping[str, float]
    detector_levels: Mapping[str, float]
    entity_share: Mapping[str, float]
    link_weights: Mapping[str, float]
    gate: Gate
    pair_bonus: PairBonus
    campaigns: CampaignRules
    cohorts: CohortRules
    distribution: DistributionRules
    detector_weights: Mapping[str, float] = field(default_factory=dict)
    link_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    link_params: Mapping[str, Any] = field(default_factory=dict)
    source: str = field(default="", compare=False)

    @classmethod
    def load(cls, path: str | Path | None = None) -> RiskConfig:
        """Read and check a risk.toml (default: the shipped one, parsed once per process)."""
        return _load(str(Path(path).resolve()) if path else str(DEFAULT_PATH))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<dict>") -> RiskConfig:
        """Build from a parsed mapping of the TOML's shape; unknown keys are errors."""
        return _build(data, source)

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain data (the TOML's shape), e.g. for a run's record."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "source":
                continue
            value = getattr(self, f.name)
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                out[f.name] = {k: list(v) if isinstance(v, tuple) else v
                               for k, v in dataclasses.asdict(value).items()}
            else:
                out[f.name] = {k: list(v) if isinstance(v, tuple) else v
                               for k, v in dict(value).items()}
        return out

    def replace(self, key: str, value: Any) -> RiskConfig:
        """A copy with one setting changed, named `section.key` as in the TOML.

        Example:
            >>> RiskConfig.load().replace("levels.high", 0.75).levels["high"]
            0.75
        """
        data = self.to_dict()
        section, _, name = key.partition(".")
        if section not in data:
            err = unknown("risk.toml section", section, data)
            raise err
        if not name:
            msg = f"Setting {key!r} must be written section.key, e.g. campaigns.lift."
            raise ParameterError(msg)
        data[section] = {**data[section], name: value}
        return _build(data, f"{self.source} with {key}={value!r}")

    def knobs(self) -> dict[str, float]:
        """Every numeric threshold and weight by `section.key` (for sensitivity sweeps)."""
        out: dict[str, float] = {}
        for section, values in self.to_dict().items():
            for key, value in values.items():
                if section == "distribution" or key == "seed" or key.startswith("top_"):
                    continue  # sample sizes, seeds and display counts, not thresholds
                if isinstance(value, int | float) and not isinstance(value, bool):
                    out[f"{section}.{key}"] = float(value)
        return out


_SECTIONS: dict[str, type] = {"gate": Gate, "pair_bonus": PairBonus, "campaigns": CampaignRules,
                              "cohorts": CohortRules, "distribution": DistributionRules}
_MAPS = ("levels", "detector_levels", "entity_share", "link_weights", "detector_weights",
         "link_groups", "link_params")


@functools.cache
def _load(path: str) -> RiskConfig:
    try:
        with Path(path).open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        msg = f"Risk configuration {path!r} does not exist; copy {str(DEFAULT_PATH)!r} and edit it."
        raise ParameterError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"Risk configuration {path!r} is not valid TOML: {exc}."
        raise ParameterError(msg) from None
    return _build(data, path)


def _build(data: Mapping[str, Any], source: str) -> RiskConfig:
    known = {f.name for f in fields(RiskConfig)} - {"source"}
    for section in data:
        if section not in known:
            err = unknown(f"section in {source}", section, known)
            raise err
    kwargs: dict[str, Any] = {"source": source}
    for name, kind in _SECTIONS.items():
        if name not in data:
            msg = f"{source} lacks section [{name}]; see {str(DEFAULT_PATH)!r} for its keys."
            raise ParameterError(msg)
        kwargs[name] = _section(kind, name, data[name], source)
    for name in _MAPS:
        if name not in data:
            if name in ("levels", "detector_levels", "entity_share", "link_weights"):
                msg = f"{source} lacks section [{name}]; see {str(DEFAULT_PATH)!r}."
                raise ParameterError(msg)
            continue
        kwargs[name] = _mapping(name, data[name], source)
    missing = [lv for lv in LEAD_LEVELS if lv not in kwargs["levels"]]
    if missing:
        msg = f"{source} [levels] lacks {', '.join(missing)}; give a risk threshold for each."
        raise ParameterError(msg)
    if kwargs["campaigns"].min_pair_weight <= 0:
        msg = (f"[campaigns] min_pair_weight must be above 0; got "
               f"{kwargs['campaigns'].min_pair_weight!r}.")
        raise ParameterError(msg)
    return RiskConfig(**kwargs)


def _section(kind: type, name: str, values: Any, source: str) -> Any:
    if not isinstance(values, Mapping):
        msg = f"[{name}] in {source} must be a table of settings, got {values!r}."
        raise ParameterError(msg)
    declared = {f.name: f for f in fields(kind)}
    for key in values:
        if key not in declared:
            err = unknown(f"key in [{name}] of {source}", key, declared)
            raise err
    missing = [k for k in declared if k not in values]
    if missing:
        msg = f"[{name}] in {source} lacks {', '.join(missing)}."
        raise ParameterError(msg)
    out = {}
    for key, f in declared.items():
        out[key] = _typed(f"{name}.{key}", str(f.type), values[key])
    return kind(**out)


def _typed(where: str, type_name: str, value: Any) -> Any:
    if type_name == "str":
        if not isinstance(value, str):
            msg = f"{where} must be a string, got {value!r}."
            raise ParameterError(msg)
        return value
    if type_name.startswith("tuple"):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            msg = f"{where} must be a list of names, got {value!r}."
            raise ParameterError(msg)
        return tuple(value)
    if type_name == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            msg = f"{where} must be an integer, got {value!r}."
            raise ParameterError(msg)
        return value
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        msg = f"{where} must be a number, got {value!r}."
        raise ParameterError(msg)
    return float(value)


def _mapping(name: str, values: Any, source: str) -> Mapping[str, Any]:
    if not isinstance(values, Mapping):
        msg = f"[{name}] in {source} must be a table, got {values!r}."
        raise ParameterError(msg)
    if name == "link_groups":
        return MappingProxyType({k: _typed(f"{name}.{k}", "tuple", v) for k, v in values.items()})
    if name == "link_params":
        return MappingProxyType(dict(values))
    return MappingProxyType({k: _typed(f"{name}.{k}", "float", v) for k, v in values.items()})


def weights_table(con: duckdb.DuckDBPyConnection, table: str, key: str,
                  weights: Mapping[str, Any]) -> None:
    """Create temp table `table` (key VARCHAR, w DOUBLE) from a mapping, values bound.

    Linking and scoring join their SQL to the configuration this way instead of formatting
    numbers into it.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({key} VARCHAR, w DOUBLE)")
    if weights:
        con.executemany(f"INSERT INTO {table} VALUES ($k, $w)",
                        [{"k": k, "w": float(v)} for k, v in weights.items()])
