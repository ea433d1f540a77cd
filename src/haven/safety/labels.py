"""Category titles as the report form shows them: marked here so they are in the `safety`
catalogue (the template translates `title` at run time with `_()`)."""


def N_(message: str) -> str:
    return message


FORM_TITLES = (
    N_("Child sexual abuse material"),
    N_("Sextortion"),
    N_("Grooming or sexual enticement of a minor"),
    N_("Child sex trafficking"),
    N_("Obscene material sent to a child"),
    N_("Non-consensual intimate imagery (adults)"),
    N_("Adult nudity or sexual content where not allowed"),
    N_("Other violation of the terms"),
)
