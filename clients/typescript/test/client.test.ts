/**
 * The TypeScript client's own tests. The retry and idempotency tests use a scripted fetch; the
 * others talk to a real Haven on loopback (HAVEN_URL, HAVEN_API_KEY, set by
 * tests/clients/test_typescript_client.py, which serves Haven) and are skipped without it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { Webhook } from "standardwebhooks";

import { createHaven, HavenError, retryingFetch, verifyWebhook, WebhookVerificationError } from "../src/index.js";

const url = process.env.HAVEN_URL;
const key = process.env.HAVEN_API_KEY;
const live = { skip: !url || !key ? "HAVEN_URL and HAVEN_API_KEY not set" : false };

test("503 and 429 are retried with the same Idempotency-Key; Retry-After is honoured", async () => {
  const seen: (string | null)[] = [];
  const statuses = [503, 429, 200];
  const fake = async (input: RequestInfo | URL): Promise<Response> => {
    const req = input as Request;
    seen.push(req.headers.get("Idempotency-Key"));
    assert.equal(await req.text(), '{"a":1}'); // the body survives every retry
    const status = statuses.shift()!;
    return new Response(status === 200 ? "{}" : "", { status, headers: status === 429 ? { "Retry-After": "0" } : {} });
  };
  const f = retryingFetch({ baseUrl: "http://x", fetch: fake as typeof fetch, backoffMs: 1 });
  const resp = await f("http://x/v1/messages", { method: "POST", body: '{"a":1}' });
  assert.equal(resp.status, 200);
  assert.equal(seen.length, 3);
  assert.ok(seen[0] && seen.every((k) => k === seen[0]));
});

test("retries stop after maxRetries and the last answer is returned", async () => {
  let calls = 0;
  const fake = async (): Promise<Response> => { calls++; return new Response("", { status: 503 }); };
  const f = retryingFetch({ baseUrl: "http://x", fetch: fake as typeof fetch, backoffMs: 1, maxRetries: 2 });
  assert.equal((await f("http://x/healthz")).status, 503);
  assert.equal(calls, 3);
});

test("verifyWebhook accepts the library's signature and refuses a tampered body or a stale one", () => {
  const secret = "whsec_" + Buffer.from("0123456789abcdef0123456789abcdef").toString("base64");
  const body = '{"type":"content.remove"}';
  const now = new Date();
  const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign("msg_1", now, body) };
  assert.deepEqual(verifyWebhook(secret, headers, body), { type: "content.remove" });
  assert.throws(() => verifyWebhook(secret, headers, body + " "), WebhookVerificationError);
  const old = new Date(now.getTime() - 600_000);
  const stale = { ...headers, "webhook-timestamp": String(Math.floor(old.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign("msg_1", old, body) };
  assert.throws(() => verifyWebhook(secret, stale, body), WebhookVerificationError);
});

test("typed calls against a real Haven", live, async () => {
  const haven = createHaven({ baseUrl: url!, apiKey: key! });
  const health = await haven.GET("/healthz");
  assert.equal(health.response.status, 200);
  const lookup = await haven.POST("/v1/hashes/lookup", { body: { hashes: [{ signal_type: "md5", value: "0".repeat(32) }] } });
  assert.equal(lookup.response.status, 200, JSON.stringify(lookup.error));
  assert.equal(lookup.data!.results[0]!.verdict.action, "allow");
});

test("errors carry Haven's machine-readable code", live, async () => {
  const anonymous = createHaven({ baseUrl: url!, apiKey: "hvn_nope_nope" });
  const r = await anonymous.GET("/v1/banks");
  assert.equal(r.response.status, 401);
  const err = new HavenError(r.response.status, r.error);
  assert.equal(err.code, "invalid_api_key");
});
