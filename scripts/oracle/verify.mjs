// Ask EBSI's own verifier libraries about JWT VCs/VPs, one JSON object per line.
//
//   echo '{"kind":"vc","jwt":"eyJ..."}' | node scripts/oracle/verify.mjs
//
// Input line fields:
//   kind         "vc" | "vp"                              (required)
//   jwt          compact JWS                               (required)
//   audience     expected VP audience (vp only)
//   verify_at    RFC 3339 time; becomes options.validAt and pins Date.now()
//   documents    {url: body} served by the offline transport (status list JWTs, and JSON
//                schemas at https://<EBSI host>/trusted-schemas-registry/vN/schemas/<id>)
//   status_base  prefix every statusListCredential URL starts with (default: the single
//                origin of the non-schema documents)
//   options      extra @cef-ebsi options merged last (skipStatusValidation, ...)
//   id           echoed back unchanged
// Output line: {"id", "valid": bool, "error": str|null, "error_name": str|null, "options": {...}}
// Nothing goes to the network: unknown URLs fail as "offline: no document for <url>".
import { createInterface } from "node:readline";
import { clearDocuments, ebsiVerdict, offlineOptions, serveDocuments } from "./offline.mjs";

/** The library only accepts status lists under config.trustedIssuersRegistry: use their common origin. */
function statusBaseFor(documents) {
  const urls = Object.keys(documents ?? {}).filter((u) => !/\/trusted-schemas-registry\/v\d+\/schemas\//.test(u));
  const origins = [...new Set(urls.map((u) => new URL(u).origin))];
  return origins.length === 1 ? origins[0] : undefined;
}

async function handle(line) {
  const req = JSON.parse(line);
  if (req.kind !== "vc" && req.kind !== "vp") throw new Error('"kind" must be "vc" or "vp"');
  if (typeof req.jwt !== "string") throw new Error('"jwt" must be a string');
  clearDocuments();
  serveDocuments(req.documents);
  const validAt = req.verify_at ? Math.floor(Date.parse(req.verify_at) / 1000) : undefined;
  if (validAt !== undefined && Number.isNaN(validAt)) throw new Error('"verify_at" must be an RFC 3339 time');
  const options = offlineOptions({ validAt, statusBase: req.status_base ?? statusBaseFor(req.documents), extra: req.options });
  const verdict = await ebsiVerdict({ kind: req.kind, jwt: req.jwt, audience: req.audience, options });
  return { id: req.id ?? null, valid: verdict.valid, error: verdict.error, error_name: verdict.error_name, options };
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let out;
  try {
    out = await handle(line);
  } catch (e) {
    out = { id: null, valid: false, error: `bad request line: ${e instanceof Error ? e.message : e}`, error_name: "RequestError" };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
