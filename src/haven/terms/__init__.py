"""Terms of service: versions published with an effective date, public pages, and the accounts'
acceptances. Rule sets name the terms version they enforce."""
