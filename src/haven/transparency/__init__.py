"""Transparency: statistics from the ledger for any period, DSA and hotline reports (CSV, XLSX,
HTML with charts, PDF, JSON), and the console's insights dashboard (`/console/insights`), where
rule owners see from review outcomes which rule or classifier threshold to tune."""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="transparency",
    summary="Transparency reports and continuous-improvement insights, computed from the ledger.",
    pages=("haven.transparency.insights:router",),
    cli=(("transparency", "haven.transparency.cli:transparency_app"),),
)
