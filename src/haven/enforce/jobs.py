"""Imports every module of enforcement that registers job handlers (for `haven worker`)."""

import haven.enforce.decisions
import haven.enforce.statements
import haven.enforce.tdb
import haven.enforce.webhooks  # noqa: F401
