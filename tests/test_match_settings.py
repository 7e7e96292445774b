"""Match settings: the shipped file is valid; a broken one reports every problem at once."""

from __future__ import annotations

import copy

import pytest
import yaml

from custinfo.errors import ConfigError
from custinfo.match import MatchModel, load_settings, settings_from_dict
from custinfo.match.settings import default_path


@pytest.fixture(scope="module")
def shipped() -> dict:
    return yaml.safe_load(default_path().read_text(encoding="utf-8"))


def test_shipped_settings_load_with_rules_comparisons_and_blocking():
    s = load_settings()
    assert {c.name for c in s.comparisons} >= {
        "name",
        "phone",
        "email",
        "birth_date",
        "national_id",
        "address",
    }
    assert [r.name for r in s.blocking_rules][:2] == ["phone", "email"]
    assert s.rules and all(r.require for r in s.rules)


def test_every_problem_is_reported_at_once_with_its_key(shipped):
    bad = copy.deepcopy(shipped)
    bad["colour"] = "blue"
    bad["blocking"]["rules"][0]["keys"] = ["phone_number"]
    bad["comparisons"][0]["levels"][1]["kind"] = "fuzzy"
    bad["comparisons"][1]["levels"][1]["m"] = 1.5
    bad["clustering"]["threshold"] = 2
    bad["review"] = {"low": 0.9, "high": 0.2}
    bad["clustering"]["rules"][1]["when"] = {"name": ["nonsense level"]}
    with pytest.raises(ConfigError) as err:
        settings_from_dict(bad)
    text = "\n".join(err.value.problems)
    for key in (
        "colour",
        "blocking.rules.phone.keys",
        "comparisons.name.levels[1].kind",
        "comparisons.birth_date.levels[1].m",
        "clustering.threshold",
        "review",
        "nonsense level",
    ):
        assert key in text, key
    assert len(err.value.problems) >= 7


def test_unknown_column_in_a_level_condition_is_named(shipped):
    bad = copy.deepcopy(shipped)
    bad["comparisons"][0]["levels"][1] = {"label": "x", "kind": "sql", "sql": "nickname_l = nickname_r"}
    with pytest.raises(ConfigError) as err:
        settings_from_dict(bad)
    assert any("nickname" in p for p in err.value.problems)


def test_last_level_must_be_else(shipped):
    bad = copy.deepcopy(shipped)
    bad["comparisons"][2]["levels"] = bad["comparisons"][2]["levels"][:-1]
    with pytest.raises(ConfigError) as err:
        settings_from_dict(bad)
    assert any("else" in p for p in err.value.problems)


def test_a_label_with_a_comma_left_unquoted_is_caught(shipped):
    bad = copy.deepcopy(shipped)
    bad["comparisons"][0]["levels"][1]["two names"] = None  # what YAML makes of {label: exact, two names}
    with pytest.raises(ConfigError) as err:
        settings_from_dict(bad)
    assert any("two names" in p for p in err.value.problems)


def test_model_round_trips_through_json(tmp_path):
    s = load_settings()
    model = MatchModel.from_settings(s)
    model.params["name"]["exact"]["m"] = 0.812
    model.save(tmp_path / "m.json")
    again = MatchModel.load(tmp_path / "m.json")
    assert again.params["name"]["exact"]["m"] == 0.812
    assert again.check(s) == []


def test_invalid_model_file_is_a_config_error(tmp_path):
    p = tmp_path / "m.json"
    p.write_text('{"format": "custinfo-match-model/1", "params": {"name": {"exact": {"m": 2, "u": 0}}}}')
    with pytest.raises(ConfigError) as err:
        MatchModel.load(p)
    assert len(err.value.problems) == 2


def test_a_malformed_small_batch_memory_limit_is_named(shipped):
    bad = copy.deepcopy(shipped)
    bad["engine"]["memory_limit_small_batch"] = "lots"
    with pytest.raises(ConfigError) as err:
        settings_from_dict(bad)
    assert any("engine.memory_limit_small_batch" in p for p in err.value.problems)


def _memory(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_duckdb_gets_the_small_batch_memory_only_for_a_small_batch(shipped):
    from custinfo.match import Matcher

    conf = copy.deepcopy(shipped)
    conf["engine"].update(memory_limit="300MB", memory_limit_small_batch="600MB")
    m = Matcher(settings_from_dict(conf))
    big, small = _memory(m._connect()), _memory(m._connect(small_batch=True))
    assert big != small and big.startswith(("286", "300")) and small.startswith(("572", "600"))
    assert _memory(Matcher(settings_from_dict(conf), memory_limit="200MB")._connect(small_batch=True)) \
        == _memory(Matcher(settings_from_dict(conf), memory_limit="200MB")._connect())  # asked for: wins
    conf["engine"]["memory_limit_small_batch"] = None
    assert _memory(Matcher(settings_from_dict(conf))._connect(small_batch=True)) == big
