"""Policy categories: defined once, used by review labels, enforcement, statements of reasons,
CyberTipline reports and transparency statistics.

Each category maps to the DSA Transparency Database taxonomy (`STATEMENT_CATEGORY_*` and
`KEYWORD_*`, which Haven uses as its single taxonomy as the spec recommends) and, where one
applies, to the CyberTipline `incidentType` (exact strings, spec section 1.8).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from haven.core.errors import Invalid


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    #: Zero tolerance: a confirmed violation terminates the account at once.
    zero_tolerance: bool
    #: Child-safety categories go to child-safety queues, visible only to trained reviewers.
    child_safety: bool
    dsa_category: str
    dsa_keywords: tuple[str, ...]
    ncmec_incident_type: str | None = None
    #: CyberTipline reportAnnotations that this category implies.
    ncmec_annotations: tuple[str, ...] = ()
    #: Illegal content (DSA ground ILLEGAL_CONTENT, with `legal_ground`) or only against the terms.
    illegal: bool = False
    #: The law relied on, for statements of reasons (Art 17(3)(d)); None when only the terms apply.
    legal_ground: str | None = None
    #: The clause of the terms of service that this category enforces (Art 17(3)(e)).
    tos_clause: str = "4"


CP = "Child Pornography (possession, manufacture, and distribution)"
ENTICEMENT = "Online Enticement of Children for Sexual Acts"
MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"

CATEGORIES: dict[str, Category] = {
    c.id: c
    for c in (
        Category(
            "csam", "Child sexual abuse material", True, True, MINORS, ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",), CP
        ),
        Category(
            "csam_generated",
            "Generated or altered child sexual abuse material",
            True,
            True,
            MINORS,
            ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",),
            CP,
        ),
        Category(
            "grooming",
            "Grooming or sexual enticement of a minor",
            False,
            True,
            MINORS,
            ("KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",),
            ENTICEMENT,
        ),
        Category(
            "sextortion",
            "Sextortion",
            True,
            True,
            MINORS,
            ("KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",),
            ENTICEMENT,
            ("sextortion",),
        ),
        Category(
            "child_trafficking",
            "Child sex trafficking",
            True,
            True,
            MINORS,
            ("KEYWORD_HUMAN_TRAFFICKING",),
            "Child Sex Trafficking",
        ),
        Category(
            "obscene_to_minor",
            "Obscene material sent to a child",
            False,
            True,
            MINORS,
            ("KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",),
            "Unsolicited Obscene Material Sent to a Child",
        ),
        Category(
            "ncii",
            "Non-consensual intimate imagery (adults)",
            False,
            False,
            "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",),
        ),
        Category(
            "adult_nudity",
            "Adult nudity or sexual content where not allowed",
            False,
            False,
            "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            ("KEYWORD_ADULT_SEXUAL_MATERIAL",),
        ),
        Category("other", "Other violation of the terms", False, False, "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", ()),
    )
}

#: The legal ground and clause of each category (kept apart from the table above so that the
#: taxonomy reads at a glance). Clause numbers refer to the default terms shipped in
#: `haven/policy/defaults/terms-1.md`; an operator with other terms changes them here.
_GROUNDS: dict[str, tuple[str | None, str]] = {
    "csam": ("Directive 2011/93/EU, Art 5 (offences concerning child sexual abuse material)", "3.1"),
    "csam_generated": ("Directive 2011/93/EU, Art 5 (offences concerning child sexual abuse material)", "3.1"),
    "grooming": ("Directive 2011/93/EU, Art 6 (solicitation of children for sexual purposes)", "3.2"),
    "sextortion": ("Directive 2011/93/EU, Arts 3 and 6 (sexual abuse and solicitation of children)", "3.2"),
    "child_trafficking": ("Directive 2011/36/EU, Art 2 (trafficking in human beings)", "3.3"),
    "obscene_to_minor": ("Directive 2011/93/EU, Art 3(3) (causing a child to witness sexual activities)", "3.4"),
    "ncii": ("Directive (EU) 2024/1385, Art 5 (non-consensual sharing of intimate or manipulated material)", "4.1"),
    "adult_nudity": (None, "4.2"),
    "other": (None, "5"),
}
CATEGORIES = {
    cid: replace(c, illegal=_GROUNDS[cid][0] is not None, legal_ground=_GROUNDS[cid][0], tos_clause=_GROUNDS[cid][1])
    for cid, c in CATEGORIES.items()
}

#: Industry classification of media (the shared scale of hash lists) plus "not on the scale".
MEDIA_CLASSIFICATIONS = ("A1", "A2", "B1", "B2", "not_on_scale")


def get_category(category_id: str) -> Category:

    try:
        return CATEGORIES[category_id]
    except KeyError:
        raise Invalid(
            f"unknown policy category '{category_id}' (one of {', '.join(CATEGORIES)})", code="unknown_category"
        ) from None
