"""Law-enforcement requests: intake, verification, deadlines, holds, and productions limited by
the kind of legal process."""
