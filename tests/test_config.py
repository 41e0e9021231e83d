"""The risk configuration is read once into one typed object; a bad file says what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.config import DEFAULT_PATH, RiskConfig
from workbench.errors import ParameterError, UnknownNameError


def test_shipped_config_loads_typed_and_once() -> None:
    cfg = RiskConfig.load()
    assert cfg is RiskConfig.load()  # parsed once per process
    assert isinstance(cfg.campaigns.min_accounts, int)
    assert isinstance(cfg.gate.specific, tuple)
    assert cfg.levels["critical"] > cfg.levels["high"] > cfg.levels["medium"] > cfg.levels["low"]


@pytest.mark.parametrize(("old", "new", "error", "match"), [
    ("\n[gate]\n", "\n[gaet]\n", UnknownNameError, "Did you mean gate"),
    ("min_tie = ", "min_ties = ", UnknownNameError, "Did you mean min_tie"),
    ("cap = 0.69", "cap = 'high'", ParameterError, "gate.cap must be a number"),
    ("min_accounts = 2 ", "min_accounts = 2.5 ", ParameterError, "must be an integer"),
    ("min_pair_weight = 0.3", "min_pair_weight = 0.0", ParameterError, "must be above 0"),
    ("[levels]\n", "[levels]\nhigh_ish = 0.5\n", None, None),
])
def test_a_bad_file_names_the_key_and_the_rule(tmp_path: Path, old: str, new: str,
                                               error: type[Exception] | None,
                                               match: str | None) -> None:
    text = DEFAULT_PATH.read_text()
    assert old in text
    path = tmp_path / "risk.toml"
    path.write_text(text.replace(old, new, 1))
    if error is None:
        assert RiskConfig.load(path).levels["high_ish"] == 0.5
        return
    with pytest.raises(error, match=match):
        RiskConfig.load(path)


def test_missing_file_and_bad_toml_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="does not exist"):
        RiskConfig.load(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[levels\n")
    with pytest.raises(ParameterError, match="not valid TOML"):
        RiskConfig.load(bad)


def test_replace_changes_one_setting_and_checks_it() -> None:
    cfg = RiskConfig.load()
    moved = cfg.replace("campaigns.lift", cfg.campaigns.lift * 1.5)
    assert moved.campaigns.lift == pytest.approx(cfg.campaigns.lift * 1.5)
    assert moved.gate == cfg.gate
    assert cfg.campaigns.lift != moved.campaigns.lift
    with pytest.raises(UnknownNameError, match="Did you mean campaigns"):
        cfg.replace("campaign.lift", 1.0)
    with pytest.raises(UnknownNameError, match="Did you mean lift"):
        cfg.replace("campaigns.lfit", 1.0)
    assert RiskConfig.from_dict(cfg.to_dict()) == cfg.replace("levels.high", cfg.levels["high"])


def test_knobs_are_the_numeric_thresholds_not_seeds_or_sample_sizes() -> None:
    knobs = RiskConfig.load().knobs()
    assert "campaigns.min_pair_weight" in knobs
    assert "gate.cap" in knobs
    assert "levels.high" in knobs
    assert "link_weights.payment" in knobs
    assert not [k for k in knobs if k.endswith(".seed") or k.startswith("distribution.")]
