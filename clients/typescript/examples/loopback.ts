/**
 * The integration a service writes, end to end on loopback: receive Haven's webhooks, upload a
 * picture with the generated client, get `block`, and verify the `content.remove` webhook that
 * follows with the Standard Webhooks library. Prints one JSON line; exits 1 on any failure.
 *
 *   HAVEN_URL=http://127.0.0.1:8000 HAVEN_API_KEY=hvn_... HAVEN_ADMIN_KEY=hvn_... \
 *   HAVEN_PICTURE=var/demo/reupload-of-known-1.jpg node dist/examples/loopback.js
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

import { createHaven, submitContent, verifyWebhook, WebhookVerificationError } from "../src/index.js";

interface Received { headers: IncomingHttpHeaders; body: string }

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`set ${name}`);
  return v;
}

async function main(): Promise<void> {
  const baseUrl = need("HAVEN_URL");
  const received: Received[] = [];
  let secret = "";
  // The webhook receiver: verify first, answer 400 to anything unsigned, 2xx once stored.
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      try {
        verifyWebhook(secret, req.headers, body);
      } catch (err) {
        res.writeHead(err instanceof WebhookVerificationError ? 400 : 500).end();
        return;
      }
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const admin = createHaven({ baseUrl, apiKey: need("HAVEN_ADMIN_KEY") });
    const configured = await admin.PUT("/v1/webhook", { body: { url: `http://127.0.0.1:${port}/haven` } });
    if (!configured.data?.secret) throw new Error(`webhook not configured: ${JSON.stringify(configured.error)}`);
    secret = configured.data.secret;

    const haven = createHaven({ baseUrl, apiKey: need("HAVEN_API_KEY") });
    const picture = readFileSync(need("HAVEN_PICTURE"));
    const answer = await submitContent(haven, {
      file: picture,
      filename: "upload.jpg",
      metadata: { external_id: "ts-upload-1", uploader: "ts-user-1", surface: "upload" },
    });
    if (answer.verdict.action !== "block") throw new Error(`verdict ${answer.verdict.action}, expected block`);

    const deadline = Date.now() + 60_000;
    let hook: { type: string; data: { content_id?: string } } | undefined;
    while (Date.now() < deadline && !hook) {
      for (const r of received) {
        const parsed = JSON.parse(r.body) as { type: string; data: { content_id?: string } };
        if (parsed.type === "content.remove" && parsed.data.content_id === answer.id) hook = parsed;
      }
      if (!hook) await new Promise((r) => setTimeout(r, 100));
    }
    if (!hook) throw new Error("no content.remove webhook for the upload within 60 s");
    const one = received.find((r) => r.body.includes(answer.id))!;
    // A tampered body must not verify: the check is real.
    let tamperedRefused = false;
    try {
      verifyWebhook(secret, one.headers, one.body.replace("content.remove", "content.restore"));
    } catch (err) {
      tamperedRefused = err instanceof WebhookVerificationError;
    }
    console.log(JSON.stringify({
      program: "typescript",
      content_id: answer.id,
      verdict: answer.verdict.action,
      webhook: hook.type,
      webhook_id: one.headers["webhook-id"],
      verified: true,
      tampered_refused: tamperedRefused,
    }));
  } finally {
    server.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
