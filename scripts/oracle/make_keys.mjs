// One-off: create the TEST ONLY demo keys under fixtures/ebsi/keys/ (never overwrites).
// Kept so the provenance of the committed keys is clear; gen_vectors.mjs only reads them.
import { existsSync, writeFileSync } from "node:fs";
import { generateKeyPair, exportJWK } from "jose";
import { util } from "@cef-ebsi/key-did-resolver";

const KEYS = [
  ["issuer-es256", "ES256", {}],
  ["issuer-eddsa", "EdDSA", { crv: "Ed25519" }],
  ["issuer-es256k", "ES256K", {}],
  ["holder-es256", "ES256", {}],
  ["other-es256", "ES256", {}],
];
const dir = new URL("../../fixtures/ebsi/keys/", import.meta.url);
for (const [name, alg, opts] of KEYS) {
  const file = new URL(`${name}.json`, dir);
  if (existsSync(file)) continue;
  const { privateKey } = await generateKeyPair(alg, { ...opts, extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const { d, ...publicJwk } = privateJwk;
  const did = util.createDid(publicJwk);
  writeFileSync(file, JSON.stringify({
    WARNING: "TEST ONLY. Published demo key for test vectors. Never trust anything signed with it.",
    alg, did, kid: `${did}#${did.slice("did:key:".length)}`, publicJwk, privateJwk,
  }, null, 2) + "\n");
  console.log(name, did.slice(0, 40));
}
