// Generates fixtures/did/ebsi-key-did-resolver.json with EBSI's own libraries:
// did:key (jwk_jcs-pub, multicodec 0xeb51) DIDs and the documents @cef-ebsi/key-did-resolver
// resolves them to, DIDs it refuses, and did:ebsi identifiers @cef-ebsi/ebsi-did-resolver
// accepts or rejects. Keys are generated fresh; the file records the EBSI library versions.
//
// Run from a scratch directory (never commit node_modules):
//   mkdir -p /tmp/ebsi-kdr && cd /tmp/ebsi-kdr && npm init -y >/dev/null &&
//   npm install @cef-ebsi/key-did-resolver @cef-ebsi/ebsi-did-resolver did-resolver &&
//   node /work/main/scripts/gen_did_key_vectors.mjs /work/main/fixtures/did/ebsi-key-did-resolver.json
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const cwd = process.cwd();
const require = createRequire(join(cwd, "package.json"));
const keyDid = await import(require.resolve("@cef-ebsi/key-did-resolver"));
const ebsiDid = await import(require.resolve("@cef-ebsi/ebsi-did-resolver"));
const { Resolver } = await import(require.resolve("did-resolver"));
const version = (name) =>
  JSON.parse(readFileSync(join(cwd, "node_modules", name, "package.json"), "utf8")).version;

const resolver = new Resolver(keyDid.getResolver());
const b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const base58 = (bytes) => {
  let n = BigInt("0x" + (Buffer.from(bytes).toString("hex") || "0"));
  let out = "";
  while (n > 0n) { out = b58[Number(n % 58n)] + out; n /= 58n; }
  for (const b of bytes) { if (b === 0) out = "1" + out; else break; }
  return out;
};
const jcsPub = (json) => "did:key:z" + base58(Buffer.concat([Buffer.from([0xd1, 0xd6, 0x03]), Buffer.from(json, "utf8")]));

const keys = [
  ["P-256", generateKeyPairSync("ec", { namedCurve: "P-256" })],
  ["P-256", generateKeyPairSync("ec", { namedCurve: "P-256" })],
  ["secp256k1", generateKeyPairSync("ec", { namedCurve: "secp256k1" })],
  ["P-384", generateKeyPairSync("ec", { namedCurve: "P-384" })],
  ["Ed25519", generateKeyPairSync("ed25519")],
];

const valid = [];
for (const [label, pair] of keys) {
  const jwk = pair.publicKey.export({ format: "jwk" });
  const did = keyDid.util.createDid(jwk);
  const ld = await resolver.resolve(did, { accept: "application/did+ld+json" });
  const plain = await resolver.resolve(did, { accept: "application/did+json" });
  valid.push({ label, publicKeyJwk: jwk, did, didDocumentLd: ld.didDocument,
               didDocumentJson: plain.didDocument });
}

const p256 = keys[0][1].publicKey.export({ format: "jwk" });
const candidates = {
  "extra-member-kid": jcsPub(JSON.stringify({ crv: p256.crv, kid: "k1", kty: p256.kty, x: p256.x, y: p256.y })),
  "members-not-sorted": jcsPub(JSON.stringify({ kty: p256.kty, crv: p256.crv, x: p256.x, y: p256.y })),
  "whitespace": jcsPub(JSON.stringify({ crv: p256.crv, kty: p256.kty, x: p256.x, y: p256.y }, null, 1)),
  "not-json": jcsPub("{not json"),
  "no-kty": jcsPub(JSON.stringify({ crv: p256.crv, x: p256.x, y: p256.y })),
  "not-base58": "did:key:z0OIl",
  "not-multibase-z": "did:key:" + "m" + Buffer.from("abc").toString("base64"),
};
const invalid = [];
for (const [label, did] of Object.entries(candidates)) {
  const result = await resolver.resolve(did, { accept: "application/did+ld+json" });
  invalid.push({ label, did, error: result.didResolutionMetadata.error ?? null });
}

const ebsi = [];
for (let i = 0; i < 3; i++) {
  ebsi.push({ did: ebsiDid.util.createDid(randomBytes(16)), valid: true });
}
const ebsiBad = {
  "version-2": "did:ebsi:z" + base58(Buffer.concat([Buffer.from([2]), randomBytes(16)])),
  "15-bytes": "did:ebsi:z" + base58(Buffer.concat([Buffer.from([1]), randomBytes(15)])),
  "17-bytes": "did:ebsi:z" + base58(Buffer.concat([Buffer.from([1]), randomBytes(17)])),
  "not-z": "did:ebsi:" + base58(Buffer.concat([Buffer.from([1]), randomBytes(16)])),
};
for (const [label, did] of Object.entries(ebsiBad)) {
  let ok = true;
  try { ebsiDid.validate(did); } catch { ok = false; }
  ebsi.push({ label, did, valid: ok });
}

const out = {
  generator: "scripts/gen_did_key_vectors.mjs",
  libraries: {
    "@cef-ebsi/key-did-resolver": version("@cef-ebsi/key-did-resolver"),
    "@cef-ebsi/ebsi-did-resolver": version("@cef-ebsi/ebsi-did-resolver"),
    "did-resolver": version("did-resolver"),
  },
  keyDid: { valid, invalid },
  ebsiDid: ebsi,
};
writeFileSync(process.argv[2] ?? "ebsi-key-did-resolver.json", JSON.stringify(out, null, 2) + "\n");
