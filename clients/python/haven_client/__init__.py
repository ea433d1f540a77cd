"""Haven's Python client, generated from its OpenAPI document (scripts/generate_clients.py).

    from haven_client import Client, verify_webhook

    with Client("http://127.0.0.1:8000", api_key) as haven:
        answer = haven.submit_content(file=("photo.jpg", data, "image/jpeg"), metadata=json.dumps(meta))
        if answer["verdict"]["action"] == "block": ...

`AsyncClient` has the same methods to `await`. Errors raise `HavenError` (status, code, message).
"""

from haven_client._generated import AsyncClient, Client, FileInput
from haven_client._transport import HavenError
from haven_client.webhooks import WebhookVerificationError, verify_webhook

__all__ = ["AsyncClient", "Client", "FileInput", "HavenError", "WebhookVerificationError", "verify_webhook"]
