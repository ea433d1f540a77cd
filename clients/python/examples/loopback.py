"""The integration a service writes, end to end on loopback: receive Haven's webhooks, upload a
picture with the generated client, get `block`, and verify the `content.remove` webhook that
follows with the Standard Webhooks library. Prints one JSON line; exits 1 on any failure.

    HAVEN_URL=http://127.0.0.1:8000 HAVEN_API_KEY=hvn_... HAVEN_ADMIN_KEY=hvn_... \\
    HAVEN_PICTURE=var/demo/reupload-of-known-1.jpg python examples/loopback.py
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from haven_client import Client
from standardwebhooks import Webhook, WebhookVerificationError

received: list[tuple[dict[str, str], bytes]] = []
secret = ""


class Receiver(BaseHTTPRequestHandler):
    """Verify first (400 to anything unsigned), then store and answer 2xx."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            self.send_response(400)
            self.end_headers()
            return
        received.append((headers, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def main() -> int:
    global secret
    env = os.environ
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with Client(env["HAVEN_URL"], env["HAVEN_ADMIN_KEY"]) as admin:
            configured = admin.set_webhook({"url": f"http://127.0.0.1:{server.server_port}/haven"})
            secret = configured["secret"] or ""
        with Client(env["HAVEN_URL"], env["HAVEN_API_KEY"]) as haven, open(env["HAVEN_PICTURE"], "rb") as f:
            meta = {"external_id": "py-upload-1", "uploader": "py-user-1", "surface": "upload"}
            answer = haven.submit_content(("upload.jpg", f.read(), "image/jpeg"), metadata=json.dumps(meta))
        if answer["verdict"]["action"] != "block":
            raise SystemExit(f"verdict {answer['verdict']['action']}, expected block")
        deadline = time.monotonic() + 60
        hook = None
        while hook is None and time.monotonic() < deadline:
            for headers, body in list(received):
                parsed = json.loads(body)
                if parsed["type"] == "content.remove" and parsed["data"].get("content_id") == answer["id"]:
                    hook = (headers, body, parsed)
            time.sleep(0.1)
        if hook is None:
            raise SystemExit("no content.remove webhook for the upload within 60 s")
        headers, body, parsed = hook
        try:  # a tampered body must not verify: the check is real
            Webhook(secret).verify(body.replace(b"content.remove", b"content.restore"), headers)
            tampered_refused = False
        except WebhookVerificationError:
            tampered_refused = True
        print(
            json.dumps(
                {
                    "program": "python",
                    "content_id": answer["id"],
                    "verdict": answer["verdict"]["action"],
                    "webhook": parsed["type"],
                    "webhook_id": headers["webhook-id"],
                    "verified": True,
                    "tampered_refused": tampered_refused,
                }
            )
        )
        return 0
    finally:
        server.shutdown()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            sys.exit(1)
        raise
