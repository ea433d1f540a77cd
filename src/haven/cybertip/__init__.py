"""CyberTipline reporting: report cases from confirmed decisions, the XML, the API client, the
persisted submission state machine, and a faithful local double of the API."""
