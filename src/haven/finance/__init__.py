"""Finance: payments screened for child-exploitation red flags (seed measure 5).

`POST /v1/transactions` answers approve, review, hold or decline within a hash lookup's budget,
from windowed aggregates kept incrementally, typology rules as data (the policy engine, with
shadow rules), and what Haven's own detectors say of the two accounts (flagged conversations,
bank hits, confirmed uploaders). Holds, declines, frozen payouts and limited payees leave as
signed webhooks; a minor gets a sextortion intervention; a reviewer sees the money trail beside
the conversation (the financial queue); confirmed cases export as SAR/STR support packages.
"""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="finance",
    summary="Payments screened for exploitation red flags: hold, decline, freeze, SAR packages.",
    routers=("haven.finance.api:router",),
    models=("haven.finance.models",),
    data=("haven.finance.data_inventory",),
    jobs=("haven.finance.jobs",),
    subscribers=("haven.finance.subscribers",),
    cli=(("finance", "haven.finance.cli:finance_app"),),
)
