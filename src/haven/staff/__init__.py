"""Staff: accounts with roles, argon2 passwords, mandatory TOTP, console sessions, and the
training gate. The console's sign-in pages and `current_staff` live in `haven.console`."""

from haven.core.capability import Capability
from haven.staff.models import StaffMember, StaffSession
from haven.staff.service import actor_of, create_staff, get_staff

__all__ = ["StaffMember", "StaffSession", "actor_of", "create_staff", "get_staff"]

CAPABILITY = Capability(
    name="staff",
    summary="Staff accounts, roles, two-factor authentication and training.",
    models=("haven.staff.models",),
    data=("haven.staff.data_inventory",),
    cli=(("staff", "haven.staff.cli:staff_app"),),
)
