"""Accounts: the service's accounts as Haven knows them (by the service's own ids), their age
bands, who contacted and who blocked whom. Age assurance and parental controls build on this."""
