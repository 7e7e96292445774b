"""The security policy loads from configs/security.yaml, reports every problem at once, resolves roles."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from custinfo.errors import ConfigError
from custinfo.security.policy import load_security, parse_duration, policy_from_dict
from custinfo.security.roles import ROLE_ENV, resolve_role

SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "security.yaml"


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def test_shipped_policy_loads_with_viewer_as_least_privileged_default():
    p = load_security(SHIPPED)
    assert p.default_role == "viewer"
    assert p.roles["viewer"].see == {"general"} and not p.roles["viewer"].may_unmask
    assert p.level_of("national_id") == "secret" and p.level_of("phone") == "confidential"
    assert p.level_of("province") == "general" and p.level_of("record_id") == "general"
    assert p.retention == dt.timedelta(days=3 * 365)
    assert p.allowed_fields("trade_show") >= {"name", "mobile", "email"}
    assert p.allowed_fields("crm") is None
    assert p.consent_default("marketing") is False


def test_every_problem_is_reported_at_once_with_its_key():
    data = shipped()
    data["fields"]["phone"] = "private"
    data["roles"]["viewer"]["see"] = ["public"]
    data["roles"]["marketing"]["fields"] = ["shoe_size"]
    data["default_role"] = "intern"
    data["retention"] = "three years"
    data["allowlist"]["trade_show"].append("favourite_colour")
    data["consent"]["default"]["marketing"] = "no"
    data["colour"] = "blue"
    with pytest.raises(ConfigError) as exc:
        policy_from_dict(data, source="security.yaml")
    problems = exc.value.problems
    keys = [p.split(":")[0] for p in problems]
    assert keys == ["colour", "fields.phone", "roles.viewer.see", "roles.marketing.fields", "default_role",
                    "retention", "allowlist.trade_show", "consent.default.marketing"]
    assert "use one of: general, confidential, secret" in problems[1]
    assert "90d" in problems[5]  # the hint shows what a duration looks like


def test_missing_policy_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError) as exc:
        load_security(tmp_path / "nope.yaml")
    assert exc.value.hint


def test_broken_yaml_names_the_line(tmp_path):
    f = tmp_path / "security.yaml"
    f.write_text("roles:\n  viewer: [general\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_security(f)
    assert "line" in exc.value.message


@pytest.mark.parametrize("text,days", [("90d", 90), ("12w", 84), ("18m", 540), ("3y", 1095), ("30", 30)])
def test_durations(text, days):
    assert parse_duration(text) == dt.timedelta(days=days)


def test_role_explicit_beats_env_beats_default():
    p = load_security(SHIPPED)
    assert resolve_role(p, "analyst", env={ROLE_ENV: "admin"}).name == "analyst"
    assert resolve_role(p, None, env={ROLE_ENV: "admin"}).name == "admin"
    assert resolve_role(p, None, env={}).name == "viewer"
    assert resolve_role(p, "  ", env={ROLE_ENV: ""}).name == "viewer"


def test_unknown_role_names_the_roles_that_exist():
    p = load_security(SHIPPED)
    with pytest.raises(ConfigError) as exc:
        resolve_role(p, "intern", env={})
    assert "intern" in exc.value.message
    assert all(r in exc.value.hint for r in ("viewer", "marketing", "analyst", "admin"))


def test_unknown_role_from_environment_is_an_error_not_a_fallback(monkeypatch):
    monkeypatch.setenv(ROLE_ENV, "root")
    with pytest.raises(ConfigError):
        resolve_role(load_security(SHIPPED))
