"""The policy rules engine: the shipped rules reproduce the previous intake behaviour, the
invariants are enforced, shadow rules have no effect until promoted, and the CLI checks and
tests rules files."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from haven.cli.main import app
from haven.core.db import Database
from haven.policy import MatchView, PolicyInput, evaluate
from haven.policy.rules import AccountView, ReportView, RulesError, parse
from haven.policy.shipped import default_rules_text, default_ruleset
from haven.policy.verdict import KNOWN_KINDS, is_near_threshold
from haven.screening.rulesets import decide, install, promote

DEFAULTS = Path(__file__).resolve().parents[2] / "src/haven/policy/defaults"


def legacy_decide(matches: list[MatchView], near_band: int) -> tuple[str, str, str, list[str]]:
    """The hard-coded decision intake used before the rules engine (kept here as the reference)."""
    known = [m for m in matches if m.bank_kind in KNOWN_KINDS]
    active = [m for m in known if m.status == "active"]
    firm = [m for m in active if not is_near_threshold(m, near_band)]
    if firm:
        kinds = sorted({m.bank_kind for m in firm})
        classes = sorted({m.classification for m in firm if m.classification})
        word = "y" if len(firm) == 1 else "ies"
        return (
            "block",
            "known_material.block",
            f"matched {len(firm)} known-material entr{word} ({', '.join(kinds)})",
            classes,
        )
    if active:
        return (
            "review",
            "known_material.near_threshold",
            "only near-threshold perceptual matches; a person must confirm",
            [],
        )
    if any(m.status == "quarantined" for m in known):
        return (
            "review",
            "known_material.quarantined_entry",
            "matched only entries under flood quarantine; a person must confirm",
            [],
        )
    return "allow", "no_match.allow", "no known-material match", []


match_views = st.builds(
    MatchView,
    bank_kind=st.sampled_from([*sorted(KNOWN_KINDS), "allowlist"]),
    signal_type=st.sampled_from(["pdq", "md5", "sha256"]),
    distance=st.integers(0, 40),
    threshold=st.integers(0, 40),
    status=st.sampled_from(["active", "quarantined", "allowlisted", "low_quality"]),
    classification=st.sampled_from([None, "A1", "B2"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(match_views, max_size=5), st.integers(0, 8))
def test_default_rules_reproduce_the_previous_intake_decisions(matches: list[MatchView], band: int) -> None:
    v = evaluate(default_ruleset(), PolicyInput(matches=tuple(matches)), near_band=band).verdict
    assert (v.action, v.rule, v.reason, v.labels) == legacy_decide(matches, band)
    # Same inputs, same verdict.
    assert evaluate(default_ruleset(), PolicyInput(matches=tuple(matches)), near_band=band).verdict == v


def test_known_material_blocks_preserves_reports_and_goes_through_the_ladder() -> None:
    d = evaluate(default_ruleset(), PolicyInput(matches=(MatchView("known_csam", "md5", 0, 0, "active", "A1"),)))
    assert d.verdict.action == "block" and d.category == "csam"
    assert set(d.actions) == {"content.remove", "preserve", "report", "ladder"}
    ncii = evaluate(default_ruleset(), PolicyInput(matches=(MatchView("ncii", "md5", 0, 0, "active"),)))
    assert ncii.category == "ncii"


def test_classifier_scores_and_reports_review_and_never_touch_the_account() -> None:
    rs = default_ruleset()
    d = evaluate(rs, PolicyInput(scores={"thorn_safer": {"version": "1", "scores": {"csam": 0.95}}}))
    assert (d.verdict.action, d.verdict.rule) == ("review", "classifier.review")
    assert "thorn_safer.csam 0.95" in d.verdict.reason and not set(d.actions) - {"review"}
    # A classifier cannot lower a block: matches come first.
    both = PolicyInput(
        matches=(MatchView("known_csam", "md5", 0, 0, "active"),),
        scores={"hive": {"version": "1", "scores": {"csam": 0.9}}},
    )
    assert evaluate(rs, both).verdict.rule == "known_material.block"
    g = evaluate(rs, PolicyInput(scores={"t": {"version": "2", "scores": {"sextortion": 0.8, "grooming": 0.75}}}))
    assert g.verdict.rule == "classifier.grooming" and g.verdict.labels == ["sextortion"]
    r = evaluate(rs, PolicyInput(reports=(ReportView("grooming"), ReportView("adult_nudity"))))
    assert r.verdict.rule == "reports.child_safety" and "1 user report(s) for grooming" in r.verdict.reason
    assert evaluate(rs, PolicyInput(reports=(ReportView("adult_nudity"),))).verdict.action == "allow"


RULES = """
version: "t1"
terms_version: "1"
rules:
  - name: young_account.grooming
    when:
      score: {labels: [grooming], gte: 0.5}
      account: {max_age_days: 7, age_bands: [adult]}
    verdict: review
    category: grooming
    actions: [review]
    reason: "new account, {label} {score}"
  - name: history.repeat
    mode: shadow
    when:
      account: {min_active_strikes: 3}
    verdict: review
    reason: "an account with strikes"
  - name: fallback.allow
    verdict: allow
    reason: "nothing"
"""


def test_account_conditions_and_shadow_mode() -> None:
    rs = parse(RULES)
    young = AccountView(age_band="adult", age_days=2, active_strikes=5)
    d = evaluate(rs, PolicyInput(scores={"c": {"scores": {"grooming": 0.6}}}, account=young))
    assert d.verdict.rule == "young_account.grooming"
    # The shadow rule holds too, but comes after the deciding rule: it would not have decided.
    assert [(h.rule, h.would_decide) for h in d.shadow] == [("history.repeat", False)]
    old = AccountView(age_band="adult", age_days=200, active_strikes=5)
    d2 = evaluate(rs, PolicyInput(scores={"c": {"scores": {"grooming": 0.6}}}, account=old))
    assert d2.verdict.rule == "fallback.allow" and d2.verdict.action == "allow"  # shadow: no effect
    assert [(h.rule, h.would_decide) for h in d2.shadow] == [("history.repeat", True)]
    promoted = parse(RULES, promoted=("history.repeat",))
    assert evaluate(promoted, PolicyInput(account=old)).verdict.rule == "history.repeat"


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda t: t.replace("actions: [review]", "actions: [account.terminate]"), "never suspend or terminate"),
        (lambda t: t.replace("actions: [review]", "actions: [ladder]"), "never suspend or terminate"),
        (lambda t: t.replace("category: grooming", "category: nonsense"), "unknown category"),
        (lambda t: t.replace("actions: [review]", "actions: [explode]"), "unknown action"),
        (lambda t: t.replace("name: history.repeat", "name: young_account.grooming"), "duplicate rule name"),
        (lambda t: t.replace('reason: "nothing"', 'reason: "{oops}"'), "unknown variable"),
        (
            lambda t: t.replace(
                "  - name: fallback.allow\n    verdict: allow",
                "  - name: fallback.allow\n    verdict: allow\n    mode: shadow",
            ),
            "last rule",
        ),
        (lambda t: t.replace("gte: 0.5", "gte: 2"), "less than or equal to 1"),
    ],
)
def test_check_refuses_broken_rules(edit, problem: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RulesError) as exc:
        parse(edit(RULES))
    assert any(problem in p for p in exc.value.problems), exc.value.problems


def test_install_promote_and_decide_with_the_database(db: Database) -> None:
    with db.session() as s:
        assert decide(s, PolicyInput()).ruleset_version == "2026.1"  # the shipped default
        install(s, RULES, actor="cli")
        old = AccountView(age_band="adult", age_days=200, active_strikes=5)
        assert decide(s, PolicyInput(account=old)).verdict.rule == "fallback.allow"
        row = promote(s, "history.repeat", actor="cli")
        assert row.revision == 2 and row.promoted == ["history.repeat"]
        assert decide(s, PolicyInput(account=old)).verdict.rule == "history.repeat"
        from haven.core.errors import Invalid, NotFound

        with pytest.raises(Invalid):
            promote(s, "history.repeat", actor="cli")
        with pytest.raises(NotFound):
            promote(s, "no.such", actor="cli")
        with pytest.raises(Invalid) as bad:
            install(s, RULES.replace("verdict: review\n    category", "verdict: maybe\n    category"), actor="cli")
        assert bad.value.code == "invalid_rules"


def test_cli_check_and_test(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["policy", "check", str(DEFAULTS / "rules.yaml")])
    assert ok.exit_code == 0 and "12 rules ok (1 in shadow mode: conversation.sextortion_hold)" in ok.output
    broken = tmp_path / "rules.yaml"
    text = default_rules_text()
    start = text.index("  - name: classifier.review")
    end = text.index("  - name: classifier.grooming")
    block = text[start:end].replace("actions: [review]", "actions: [account.terminate]")
    broken.write_text(text[:start] + block + text[end:])
    bad = runner.invoke(app, ["policy", "check", str(broken)])
    assert bad.exit_code == 2 and "never suspend or terminate" in " ".join(bad.output.split())
    passed = runner.invoke(app, ["policy", "test", str(DEFAULTS / "rules-examples.yaml")])
    assert passed.exit_code == 0 and "18 passed, 0 failed" in passed.output
    wrong = tmp_path / "examples.yaml"
    wrong.write_text(
        f"rules: {DEFAULTS / 'rules.yaml'}\ncases:\n  - name: wrong\n    input: {{}}\n    expect: {{action: block}}\n"
    )
    failed = runner.invoke(app, ["policy", "test", str(wrong)])
    assert failed.exit_code == 1 and "FAIL wrong" in failed.output
