"""The staff console's shared web layer: templates, the staff-session dependency, CSRF, and
HTML error pages. Capabilities build their console pages on it.

How to add a page (the report desk, dead letters, ...):

    from haven.console import console_router, current_staff, csrf_protect, render, StaffDep

    router = console_router()          # routes under /console, HTML errors, sign-in redirects

    @router.get("/reports")
    def reports(request: Request, me: Annotated[StaffContext, Depends(current_staff("legal", "admin"))]):
        return render(request, "reports.html", {"rows": ...}, me=me)

    @router.post("/reports/{id}/send", dependencies=[Depends(csrf_protect)])
    ...

Templates extend `base.html` (blocks `title` and `content`); put yours in your capability's
`templates/` folder and call `add_template_dir(Path(__file__).parent / "templates")` once. Add a
navigation entry with `add_nav(label, path, roles)`. Every form posts a hidden `csrf_token`
(`{{ csrf_field() }}`); htmx requests send it as the `X-CSRF-Token` header (set on <body>).
Permissions are checked on the server by `current_staff(*roles)`: with no roles any signed-in
staff member passes; otherwise the person needs one of the roles (403 otherwise).
"""

from haven.console.web import (
    ConsoleError,
    StaffContext,
    add_nav,
    add_template_dir,
    console_router,
    csrf_protect,
    current_staff,
    render,
)
from haven.core.capability import Capability

__all__ = [
    "ConsoleError",
    "StaffContext",
    "add_nav",
    "add_template_dir",
    "console_router",
    "csrf_protect",
    "current_staff",
    "render",
]

CAPABILITY = Capability(
    name="console",
    summary="The staff console's web layer: sign-in, home, templates, CSRF.",
    pages=("haven.console.pages:router",),
)
