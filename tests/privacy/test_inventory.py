"""The inventory declares every column of the real models, and the generated doc is current."""

from __future__ import annotations

from pathlib import Path

from haven.core.inventory import BASES, TableData, undeclared
from haven.privacy.inventory import declarations, model_columns, render_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_column_of_every_model_is_declared() -> None:
    missing = undeclared(declarations(), model_columns())
    assert missing == {}, f"declare these columns in the capability's data_inventory.py: {missing}"


def test_no_declaration_names_a_column_the_models_lack() -> None:
    from haven.core.inventory import stale

    assert stale(declarations(), model_columns()) == {}


def test_a_new_column_fails_the_check() -> None:
    """The check itself: a model gaining a column nobody declared is reported."""
    columns = model_columns()
    columns["content_items"] = [*columns["content_items"], "device_fingerprint"]
    assert undeclared(declarations(), columns) == {"content_items": ["device_fingerprint"]}
    columns["new_table"] = ["id", "email"]
    assert undeclared(declarations(), columns)["new_table"] == ["id", "email"]


def test_each_table_declared_once_with_a_known_basis_and_class() -> None:
    from haven.privacy.classes import CLASSES

    decls = declarations()
    names = [d.table for d in decls]
    assert len(names) == len(set(names))
    for d in decls:
        assert isinstance(d, TableData)
        assert d.basis in BASES, d.table
        assert d.data_class is None or d.data_class in CLASSES, d.table
        assert set(d.personal).isdisjoint(d.other_columns), d.table
        assert set(d.withheld) <= set(d.personal), d.table
        assert set(d.subject) <= d.declared(), d.table
        if d.personal:
            assert d.basis != "none", d.table


def test_generated_doc_is_current() -> None:
    assert (DOCS / "data-inventory.md").read_text() == render_markdown(), "run python -m haven.privacy.docs"


def test_generated_dpia_is_current_and_follows_the_configuration() -> None:
    from haven.core.settings import Settings
    from haven.privacy.dpia import render

    defaults = Settings(_env_file=None, environment="development")  # type: ignore[call-arg]
    assert (DOCS / "dpia.md").read_text() == render(defaults, for_deployment=False), "run python -m haven.privacy.docs"
    shorter = defaults.model_copy(update={"privacy_retention_days": {"messages.unflagged": 14}})
    text = render(shorter)
    assert "| `messages.unflagged` | 14 days (changed from the default) |" in text
    assert "never flagged go after 14 days" in text
