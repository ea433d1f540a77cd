"""A children's data protection impact assessment (DPIA) filled from the configuration.

`haven privacy dpia` prints it for this deployment's settings (retention periods, classifiers,
external services in use); `docs/dpia.md` is the same template with the defaults. The facts (what
is processed, why, for how long, who can see it) come from the data inventory and the settings;
the sections a controller must judge (necessity, residual risk, consultation) are headed and
left for them to write, with the measures Haven takes listed so they are not re-invented.
"""

from __future__ import annotations

from haven.core.settings import Settings
from haven.privacy.classes import CLASSES, days
from haven.privacy.inventory import declarations

CHILD_FIELDS = ("age_band", "teen_id", "min_age", "max_age")


def render(settings: Settings, *, for_deployment: bool = True) -> str:
    decls = sorted(declarations(), key=lambda d: d.table)
    personal = [d for d in decls if d.personal]
    children = [d for d in personal if any(f in d.personal for f in CHILD_FIELDS) or "child" in str(d.personal)]
    external = [
        name
        for name, configured in (
            ("Thorn Safer", bool(settings.thorn_safer_url and settings.thorn_safer_key.get_secret_value())),
            ("Google Content Safety API", bool(settings.google_csapi_key.get_secret_value())),
            ("Hive", bool(settings.hive_key.get_secret_value())),
        )
        if configured
    ]
    classifiers = sorted({c for names in settings.classifiers.values() for c in names})
    source = "this deployment's settings" if for_deployment else "the default settings"
    out = [
        "# Children's data protection impact assessment (template)",
        "",
        f"Filled from {source} and the data inventory (docs/data-inventory.md) by `haven privacy dpia`"
        + ("" if for_deployment else " (this file: `python -m haven.privacy.docs`, defaults)")
        + ". Sections marked *controller* are for the service to complete.",
        "",
        "## 1. The processing",
        "",
        "Haven screens what users of the service upload and send for child sexual abuse material, grooming "
        "and sextortion; it keeps evidence, reports to NCMEC, enforces the service's terms and tells users "
        "why (DSA Art 16, 17, 20), and applies age-appropriate protections for minors.",
        "",
        f"- Tables holding personal data: {len(personal)} of {len(decls)}; personal fields: "
        f"{sum(len(d.personal) for d in personal)}.",
        f"- Tables with children's data (age bands, assurance, guardian links): "
        f"{', '.join(f'`{d.table}`' for d in children) or 'none'}.",
        f"- Classifiers configured: {', '.join(classifiers) or 'none'}; external classification services in use: "
        f"{', '.join(external) or 'none (everything runs locally)'}.",
        "- Classifier output alone never suspends or terminates an account; a person decides.",
        "",
        "## 2. What is processed, why, on what basis, for how long, who sees it",
        "",
        "| data | purpose | basis | kept | at the end | who sees it |",
        "|---|---|---|---|---|---|",
    ]
    for d in personal:
        out.append(
            f"| `{d.table}`: {', '.join(d.personal)} | {d.purpose} | {d.basis} | {d.retention} | {d.end} | {d.access} |"
        )
    out += [
        "",
        "## 3. Retention in this configuration",
        "",
        "| data class | period | what happens |",
        "|---|---|---|",
    ]
    for c in CLASSES.values():
        n = days(settings, c.name)
        period = "at the decision" if n == 0 else f"{n} days"
        changed = " (changed from the default)" if n != c.default_days else ""
        out.append(f"| `{c.name}` | {period}{changed} | {c.what} |")
    out += [
        "",
        "Legal holds, preserved CyberTipline reports, open report cases and open law-enforcement requests "
        "always win over a period.",
        "",
        "## 4. Measures already taken",
        "",
        "- Least data: messages of conversations never flagged go after "
        f"{days(settings, 'messages.unflagged')} days; uploader and IP of allowed content after "
        f"{days(settings, 'content.uploader')} days; cleared held media at the reviewer's decision.",
        "- Field-level encryption: message text, reporter and law-enforcement requester contact details are "
        "sealed at rest (HAVEN_SECRETS_KEY, rotation with `haven privacy rewrap`); media and evidence are "
        "encrypted files.",
        "- Every access to evidence, flagged media, messages and a child's data is authorised by role and audited.",
        "- Staff appear to users by a pseudonymous reviewer handle only.",
        "- Data-subject access and erasure over the API (`POST /v1/accounts/{id}/dsar`, `.../erasure`), "
        "audited, with the withheld classes and the reasons said.",
        "",
        "## 5. Necessity and proportionality (*controller*)",
        "",
        "## 6. Risks to children and to other users, and their likelihood and severity (*controller*)",
        "",
        "## 7. Residual risk and sign-off; consultation of the DPO and, where needed, the authority (*controller*)",
        "",
    ]
    return "\n".join(out)
