// Generate EBSI JWT VC/VP test vectors with EBSI's own libraries, verify each
// one with the same libraries (offline), and record the verdict.
//
//   cd scripts/oracle && npm ci && node gen_vectors.mjs
//
// Output: fixtures/ebsi/vectors/<name>.json. Keys (TEST ONLY) come from
// fixtures/ebsi/keys/ (created once by make_keys.mjs). Payloads and clocks are
// fixed; ES256/ES256K signatures are randomised by the signer, so a vector whose
// decoded header+payload did not change keeps its committed JWT (stable diffs).
import { readFileSync, writeFileSync, existsSync, readdirSync, unlinkSync } from "node:fs";
import { gzip } from "pako";
import { SignJWT, importJWK, decodeJwt, decodeProtectedHeader } from "jose";
import { createVerifiableCredentialJwt } from "@cef-ebsi/verifiable-credential";
import { createVerifiablePresentationJwt } from "@cef-ebsi/verifiable-presentation";
import { metadata as attestationSchema } from "@cef-ebsi/vcdm1.1-attestation-schema";
import { metadata as statusListSchema } from "@cef-ebsi/vcdm1.1-revocation-statuslist-schema";
import { atTime, ebsiVerdict, offlineOptions, serveDocuments } from "./offline.mjs";

const libVersion = (name) =>
  JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, import.meta.url), "utf8")).version;
const VC_LIB = `@cef-ebsi/verifiable-credential@${libVersion("@cef-ebsi/verifiable-credential")}`;
const VP_LIB = `@cef-ebsi/verifiable-presentation@${libVersion("@cef-ebsi/verifiable-presentation")}`;
const OUT = new URL("../../fixtures/ebsi/vectors/", import.meta.url);
const KEYS = new URL("../../fixtures/ebsi/keys/", import.meta.url);

// ---- fixed inputs -------------------------------------------------------
const ISSUED = "2025-01-01T00:00:00Z";
const EXPIRES = "2030-01-01T00:00:00Z";
const VERIFY_AT = "2026-06-01T00:05:00Z";
const VP_IAT = "2026-06-01T00:00:00Z";
const VP_EXP = "2026-06-01T00:10:00Z";
const NONCE = "n-0S6_WzA2Mj-trustbridge-test";
const AUDIENCE = "https://verifier.trustbridge.test/oid4vp";
const STATUS_BASE = "https://status.trustbridge.test/lists";
const STATUS_URL = `${STATUS_BASE}/1`;
const REVOKED_INDEX = 42;
const ACTIVE_INDEX = 41;
const TSR = "https://api-pilot.ebsi.eu/trusted-schemas-registry/v3/schemas";

const unix = (iso) => Math.floor(Date.parse(iso) / 1000);
const b64u = (buf) => Buffer.from(buf).toString("base64url");
const key = (name) => JSON.parse(readFileSync(new URL(`${name}.json`, KEYS), "utf8"));
const signerOf = (k) => ({ did: k.did, kid: k.kid, alg: k.alg, publicKeyJwk: k.publicJwk, privateKeyJwk: k.privateJwk });

const issuerEs256 = key("issuer-es256");
const issuerEddsa = key("issuer-eddsa");
const issuerEs256k = key("issuer-es256k");
const holder = key("holder-es256");
const other = key("other-es256");

// ---- status list (StatusList2021, EBSI flavour) ---------------------------
/** 16 KiB bitstring, bit `index` set (left-most bit = index 0), GZIP, base64 as EBSI decodes it. */
function encodeStatusList(indices) {
  const bits = new Uint8Array(16 * 1024);
  for (const i of indices) bits[Math.floor(i / 8)] |= 0x80 >> (i % 8);
  // pako writes mtime=0 and no file name, so the output is reproducible.
  // EBSI decodes with multiformats' RFC 4648 base64 (standard alphabet, no padding).
  return Buffer.from(gzip(bits)).toString("base64").replace(/=+$/, "");
}

// ---- credential payloads --------------------------------------------------
function microCredential(issuer, id, extra = {}) {
  return {
    "@context": ["https://www.w3.org/2018/credentials/v1"],
    id,
    type: ["VerifiableCredential", "VerifiableAttestation", "MicroCredential"],
    issuer: issuer.did,
    issuanceDate: ISSUED,
    issued: ISSUED,
    validFrom: ISSUED,
    expirationDate: EXPIRES,
    credentialSubject: {
      id: holder.did,
      achievement: {
        title: "EV high-voltage safety",
        ects: 2,
        eqfLevel: 5,
        learningOutcomes: [
          "Identify high-voltage components of a battery-electric vehicle",
          "Apply the de-energising procedure and verify absence of voltage",
          "Select and check personal protective equipment for live work",
        ],
      },
    },
    credentialSchema: { id: `${TSR}/${attestationSchema.id.multibase_base58btc}`, type: "FullJsonSchemaValidator2021" },
    ...extra,
  };
}

function statusEntry(index) {
  return {
    credentialStatus: {
      id: `${STATUS_URL}#${index}`,
      type: "StatusList2021Entry",
      statusPurpose: "revocation",
      statusListIndex: String(index),
      statusListCredential: STATUS_URL,
    },
  };
}

const createOptions = offlineOptions({ statusBase: STATUS_BASE, validAt: unix(VERIFY_AT) });

async function createVc(payload, issuer, extra = {}) {
  const options = { ...createOptions, ...extra };
  return atTime(unix(ISSUED), () => createVerifiableCredentialJwt(payload, signerOf(issuer), options));
}

async function createVp(vcs, signer, { skipValidation = false } = {}) {
  const payload = {
    "@context": ["https://www.w3.org/2018/credentials/v1"],
    id: "urn:uuid:6f1b3f2e-7d3a-4c55-9a41-0c1e5b7a2d90",
    type: ["VerifiablePresentation"],
    holder: signer.did,
    verifiableCredential: vcs,
  };
  const options = { ...createOptions, nonce: NONCE, nbf: unix(VP_IAT), exp: unix(VP_EXP), skipValidation };
  return atTime(unix(VP_IAT), () => createVerifiablePresentationJwt(payload, signerOf(signer), AUDIENCE, options));
}

// ---- tampering helpers (each documented in the vector's description) -----
function splitJwt(jwt) {
  const [h, p, s] = jwt.split(".");
  return { h, p, s };
}
function withPayload(jwt, mutate) {
  const { h, s } = splitJwt(jwt);
  const payload = decodeJwt(jwt);
  mutate(payload);
  return `${h}.${b64u(JSON.stringify(payload))}.${s}`;
}
function flipSignatureByte(jwt) {
  const { h, p, s } = splitJwt(jwt);
  const sig = Buffer.from(s, "base64url");
  sig[10] ^= 0x01;
  return `${h}.${p}.${b64u(sig)}`;
}
function algNone(jwt) {
  const { p } = splitJwt(jwt);
  const header = { ...decodeProtectedHeader(jwt), alg: "none" };
  return `${b64u(JSON.stringify(header))}.${p}.`;
}
/** Same claims, re-signed with jose by `signer`, header kid = signer's kid (a different DID). */
async function resignWith(jwt, signer) {
  const header = { ...decodeProtectedHeader(jwt), kid: signer.kid, alg: signer.alg };
  return new SignJWT(decodeJwt(jwt)).setProtectedHeader(header).sign(await importJWK(signer.privateJwk, signer.alg));
}

// ---- recording --------------------------------------------------------------
const vectors = [];
const statusListDoc = {};

function sameClaims(a, b) {
  const norm = (j) => JSON.stringify([decodeProtectedHeader(j), decodeJwt(j)]);
  try {
    return norm(a) === norm(b);
  } catch {
    return false;
  }
}

/** Keep the committed JWT when only the (random) ECDSA signature would change. */
function stable(name, fresh) {
  const file = new URL(`${name}.json`, OUT);
  if (!existsSync(file)) return fresh;
  const old = JSON.parse(readFileSync(file, "utf8")).input;
  return old && sameClaims(old, fresh) && fresh.split(".")[2] !== "" ? old : fresh;
}

async function record(name, spec) {
  const verifyAt = spec.verifyAt ?? VERIFY_AT;
  const audience = spec.audience ?? AUDIENCE;
  const options = offlineOptions({ statusBase: STATUS_BASE, validAt: unix(verifyAt) });
  const verdict = await ebsiVerdict({ kind: spec.kind, jwt: spec.jwt, audience, options });
  const expectedValid = spec.expectedValid ?? verdict.valid;
  if (spec.ebsiMustBe !== undefined && spec.ebsiMustBe !== verdict.valid) {
    throw new Error(`${name}: EBSI library said valid=${verdict.valid} (${verdict.error}), expected ${spec.ebsiMustBe}`);
  }
  let header = null;
  let payload = null;
  try {
    header = decodeProtectedHeader(spec.jwt);
    payload = decodeJwt(spec.jwt);
  } catch {
    /* undecodable on purpose */
  }
  const vector = {
    description: spec.description,
    source: `generated by ${spec.kind === "vp" ? `${VP_LIB} and ${VC_LIB}` : VC_LIB} via scripts/oracle/gen_vectors.mjs${spec.tamper ? `; then tampered: ${spec.tamper}` : ""}`,
    kind: spec.kind,
    input: spec.jwt,
    verify_at: verifyAt,
    nonce: spec.kind === "vp" ? (spec.nonce ?? NONCE) : null,
    audience: spec.kind === "vp" ? audience : null,
    issuer_did: spec.issuerDid,
    holder_did: spec.holderDid ?? holder.did,
    expected: {
      valid: expectedValid,
      reason: spec.reason ?? (expectedValid ? null : "see ebsi_error"),
      ebsi_valid: verdict.valid,
      ebsi_error: verdict.error,
    },
    ebsi_options: { ...options, audience: spec.kind === "vp" ? audience : undefined },
    offline_documents: spec.usesStatus ? { ...statusListDoc } : {},
    status_list: spec.statusList ?? null,
    decoded: { header, payload },
  };
  vectors.push(name);
  writeFileSync(new URL(`${name}.json`, OUT), `${JSON.stringify(vector, null, 2)}\n`);
  console.log(`${verdict.valid ? "VALID  " : "INVALID"} ${name}${verdict.error ? `  (${verdict.error.slice(0, 110)})` : ""}`);
}

// ---- main ---------------------------------------------------------------------
async function main() {
  // 1. status list credential (issuer ES256), index REVOKED_INDEX set
  const encodedList = encodeStatusList([REVOKED_INDEX]);
  const statusListPayload = {
    "@context": ["https://www.w3.org/2018/credentials/v1"],
    id: STATUS_URL,
    type: ["VerifiableCredential", "VerifiableAttestation", "StatusList2021Credential"],
    issuer: issuerEs256.did,
    issuanceDate: ISSUED,
    issued: ISSUED,
    validFrom: ISSUED,
    expirationDate: EXPIRES,
    credentialSubject: { id: `${STATUS_URL}#list`, type: "StatusList2021", statusPurpose: "revocation", encodedList },
    credentialSchema: { id: `${TSR}/${statusListSchema.id.multibase_base58btc}`, type: "FullJsonSchemaValidator2021" },
  };
  const statusListJwt = stable("status-list-credential", await createVc(statusListPayload, issuerEs256));
  statusListDoc[STATUS_URL] = statusListJwt;
  serveDocuments(statusListDoc);
  const statusList = {
    url: STATUS_URL,
    jwt: statusListJwt,
    purpose: "revocation",
    encoded_list: encodedList,
    encoding: "GZIP (RFC 1952) then base64 RFC 4648 section 4, standard alphabet, unpadded (what @cef-ebsi/verifiable-credential decodes)",
    bitstring_bytes: 16 * 1024,
    set_indices: [REVOKED_INDEX],
    bit_order: "index 0 is the left-most (most significant) bit of byte 0",
  };

  // 2. base credentials
  const vcEs256 = stable("vc-es256-valid", await createVc(microCredential(issuerEs256, "urn:uuid:0b7f0d2c-1f55-4d8e-9d0c-3a1f2e4b5c61"), issuerEs256));
  const vcEddsa = stable("vc-eddsa-valid", await createVc(microCredential(issuerEddsa, "urn:uuid:1c8e1e3d-2a66-4e9f-8e1d-4b2a3f5c6d72"), issuerEddsa));
  const vcEs256k = stable("vc-es256k-valid", await createVc(microCredential(issuerEs256k, "urn:uuid:2d9f2f4e-3b77-4fa0-9f2e-5c3b4a6d7e83"), issuerEs256k));
  const vcActive = stable("vc-status-active", await createVc(microCredential(issuerEs256, "urn:uuid:3ea03a5f-4c88-4ab1-a03f-6d4c5b7e8f94", statusEntry(ACTIVE_INDEX)), issuerEs256));
  const vcRevoked = stable("vc-status-revoked", await createVc(microCredential(issuerEs256, "urn:uuid:4fb14b60-5d99-4bc2-b140-7e5d6c8f9fa5", statusEntry(REVOKED_INDEX)), issuerEs256,
    // the library refuses to issue an already-revoked credential; the bit is set "later"
    { skipStatusValidation: true }));

  const vc = (jwt, issuer) => ({ kind: "vc", jwt, issuerDid: issuer.did });
  await record("status-list-credential", { ...vc(statusListJwt, issuerEs256), holderDid: null, ebsiMustBe: true, statusList,
    description: `StatusList2021Credential JWT (EBSI schema ${statusListSchema.id.multibase_base58btc}) served offline at ${STATUS_URL}; bit ${REVOKED_INDEX} set (revoked), everything else clear.` });
  await record("vc-es256-valid", { ...vc(vcEs256, issuerEs256), ebsiMustBe: true,
    description: "EBSI-profile JWT VC (VCDM 1.1 `vc` claim), did:key (jwk_jcs-pub) issuer, ES256 / P-256, subject is the did:key holder; micro-credential subject." });
  await record("vc-eddsa-valid", { ...vc(vcEddsa, issuerEddsa), ebsiMustBe: true,
    description: "Same credential shape signed with EdDSA / Ed25519 by a did:key (jwk_jcs-pub, OKP JWK) issuer." });
  await record("vc-es256k-valid", { ...vc(vcEs256k, issuerEs256k), ebsiMustBe: true,
    description: "Same credential shape signed with ES256K / secp256k1 by a did:key (jwk_jcs-pub) issuer." });
  await record("vc-status-active", { ...vc(vcActive, issuerEs256), ebsiMustBe: true, usesStatus: true, statusList,
    description: `Credential with a StatusList2021Entry (revocation, index ${ACTIVE_INDEX}) whose bit is clear: valid when the status list in offline_documents is used.` });
  await record("vc-status-revoked", { ...vc(vcRevoked, issuerEs256), ebsiMustBe: false, usesStatus: true, statusList, reason: "status.revoked",
    description: `Credential with a StatusList2021Entry (revocation, index ${REVOKED_INDEX}) whose bit is set: revoked.` });

  // 3. tampered credentials
  await record("vc-payload-tampered", { ...vc(withPayload(vcEs256, (p) => { p.vc.credentialSubject.achievement.ects = 20; }), issuerEs256),
    ebsiMustBe: false, reason: "signature.invalid", tamper: "payload re-encoded with vc.credentialSubject.achievement.ects 2 -> 20, original signature kept",
    description: "vc-es256-valid with one payload claim changed (ECTS 2 -> 20) and the original signature: signature must fail." });
  await record("vc-signature-flipped", { ...vc(flipSignatureByte(vcEs256), issuerEs256), ebsiMustBe: false, reason: "signature.invalid",
    tamper: "signature byte 10 XOR 0x01", description: "vc-es256-valid with one signature byte flipped." });
  await record("vc-eddsa-signature-flipped", { ...vc(flipSignatureByte(vcEddsa), issuerEddsa), ebsiMustBe: false, reason: "signature.invalid",
    tamper: "signature byte 10 XOR 0x01", description: "vc-eddsa-valid with one signature byte flipped." });
  await record("vc-alg-none", { ...vc(algNone(vcEs256), issuerEs256), ebsiMustBe: false, reason: "alg.unsupported",
    tamper: "header alg set to none, signature removed", description: "vc-es256-valid turned into an unsecured JWT (alg none, empty signature)." });
  await record("vc-kid-other-did", { ...vc(stable("vc-kid-other-did", await resignWith(vcEs256, other)), issuerEs256), ebsiMustBe: false, reason: "kid.not_issuer",
    tamper: "claims unchanged, re-signed with jose by other-es256, header kid = other DID's key",
    description: "Valid signature by a key of ANOTHER did:key (kid DID != iss): must be rejected (kid must belong to the issuer)." });
  await record("vc-expired", { ...vc(vcEs256, issuerEs256), verifyAt: "2030-06-01T00:00:00Z", ebsiMustBe: false, reason: "time.expired",
    description: "vc-es256-valid verified at 2030-06-01, after exp/expirationDate (2030-01-01)." });
  await record("vc-not-yet-valid", { ...vc(vcEs256, issuerEs256), verifyAt: "2024-06-01T00:00:00Z", ebsiMustBe: false, reason: "time.not_yet_valid",
    description: "vc-es256-valid verified at 2024-06-01, before nbf/validFrom (2025-01-01)." });

  // 4. presentations
  const vpValid = stable("vp-es256-valid", await createVp([vcEs256, vcEddsa], holder));
  const vpRevoked = stable("vp-with-revoked-vc", await createVp([vcRevoked], holder, { skipValidation: true }));
  const vpOtherHolder = stable("vp-holder-not-subject", await createVp([vcEs256], other, { skipValidation: true }));
  const vp = (jwt, extra = {}) => ({ kind: "vp", jwt, issuerDid: issuerEs256.did, ...extra });

  await record("vp-es256-valid", { ...vp(vpValid), ebsiMustBe: true, usesStatus: false,
    description: "EBSI-style JWT VP (`vp` claim, iss = sub = holder did:key, kid = holder DID#fragment, nonce and aud set) wrapping vc-es256-valid and vc-eddsa-valid." });
  await record("vp-wrong-audience", { ...vp(vpValid), audience: "https://attacker.trustbridge.test/oid4vp", ebsiMustBe: false, reason: "vp.audience_mismatch",
    description: "vp-es256-valid checked against a different expected audience." });
  await record("vp-wrong-nonce", { ...vp(vpValid), nonce: "another-nonce-not-in-the-jwt", ebsiMustBe: true, expectedValid: false, reason: "vp.nonce_mismatch",
    description: "vp-es256-valid checked against a different expected nonce. NOTE: the EBSI library does NOT check nonce (it only writes it), so ebsi_valid is true; a verifier that expects a nonce must reject." });
  await record("vp-signature-flipped", { ...vp(flipSignatureByte(vpValid)), ebsiMustBe: false, reason: "signature.invalid",
    tamper: "VP signature byte 10 XOR 0x01", description: "vp-es256-valid with one signature byte flipped." });
  await record("vp-payload-tampered", { ...vp(withPayload(vpValid, (p) => { p.nonce = "replayed-nonce"; })), nonce: "replayed-nonce", ebsiMustBe: false, reason: "signature.invalid",
    tamper: "VP payload nonce replaced, original signature kept", description: "vp-es256-valid with its nonce claim rewritten (replay attempt) and the original signature." });
  await record("vp-alg-none", { ...vp(algNone(vpValid)), ebsiMustBe: false, reason: "alg.unsupported",
    tamper: "header alg set to none, signature removed", description: "vp-es256-valid as an unsecured JWT." });
  await record("vp-kid-other-did", { ...vp(stable("vp-kid-other-did", await resignWith(vpValid, other))), ebsiMustBe: false, reason: "kid.not_holder",
    tamper: "claims unchanged, re-signed with jose by other-es256, header kid = other DID's key",
    description: "VP claims of the holder signed by ANOTHER did:key (kid DID != iss/holder)." });
  await record("vp-expired", { ...vp(vpValid), verifyAt: "2026-06-01T00:20:00Z", ebsiMustBe: false, reason: "time.expired",
    description: "vp-es256-valid verified 10 minutes after the VP exp." });
  await record("vp-with-revoked-vc", { ...vp(vpRevoked), usesStatus: true, statusList, ebsiMustBe: false, reason: "status.revoked",
    description: "Correctly signed VP whose only credential (vc-status-revoked) is revoked in the status list." });
  await record("vp-holder-not-subject", { ...vp(vpOtherHolder), holderDid: other.did, ebsiMustBe: false, reason: "vp.holder_not_subject",
    description: "Correctly signed VP by another did:key presenting a credential whose subject is the holder did:key (not the presenter)." });

  // 5. drop vectors this script no longer produces
  for (const f of readdirSync(OUT)) {
    if (f.endsWith(".json") && !vectors.includes(f.slice(0, -5))) unlinkSync(new URL(f, OUT));
  }
  console.log(`${vectors.length} vectors written to fixtures/ebsi/vectors/`);
}

await main();
