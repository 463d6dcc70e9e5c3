// Benchmark workload for bench/compare_ebsi.py, made and verified with EBSI's own libraries.
//
//   node scripts/oracle/bench_verify.mjs gen --n 50 --out /tmp/workload.json [--counts 1,5,20] [--algs ES256]
//   node scripts/oracle/bench_verify.mjs verify --in /tmp/workload.json [--seconds 3]
//
// gen: for each signature algorithm (--algs, default ES256,EdDSA) and credentials per VP (--counts,
// default 1,5; bench/scaling.py asks for 1,5,20), --n distinct
// JWT VPs: a fresh did:key holder per VP (VP signed by the holder, credentialSubject.id = holder),
// VCs from a pool of did:key issuers of the same algorithm, each VC with its own id. Made with
// createVerifiableCredentialJwt / createVerifiablePresentationJwt, so EBSI's verifier accepts
// them. Keys are generated per run and never written anywhere but the workload file.
//
// verify: every group's VPs with verifyPresentationJwt in a loop (one process, one at a time:
// one core) for --seconds, network replaced by offline.mjs' in-memory transport, Date.now()
// pinned to the workload's verify time. Prints one JSON line:
// {"groups": {"ES256/1": {"verifications", "valid", "wall_s", "cpu_s", "per_s", "per_cpu_s"}}}
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { exportJWK, generateKeyPair } from "jose";
import { util } from "@cef-ebsi/key-did-resolver";
import { createVerifiableCredentialJwt } from "@cef-ebsi/verifiable-credential";
import { createVerifiablePresentationJwt } from "@cef-ebsi/verifiable-presentation";
import { metadata as attestationSchema } from "@cef-ebsi/vcdm1.1-attestation-schema";
import { atTime, ebsiVerdict, offlineOptions } from "./offline.mjs";

const ISSUED = "2025-01-01T00:00:00Z";
const EXPIRES = "2030-01-01T00:00:00Z";
const VP_IAT = "2026-06-01T00:00:00Z";
const VP_EXP = "2026-06-01T00:10:00Z";
const VERIFY_AT = "2026-06-01T00:05:00Z";
const NONCE = "bench-nonce-0001";
const AUDIENCE = "https://verifier.trustbridge.test/oid4vp";
const TSR = "https://api-pilot.ebsi.eu/trusted-schemas-registry/v3/schemas";
const ISSUERS_PER_ALG = 8;

const unix = (iso) => Math.floor(Date.parse(iso) / 1000);

async function newKey(alg) {
  const { privateKey } = await generateKeyPair(alg, { ...(alg === "EdDSA" && { crv: "Ed25519" }), extractable: true });
  const privateKeyJwk = await exportJWK(privateKey);
  const { d, ...publicKeyJwk } = privateKeyJwk;
  const did = util.createDid(publicKeyJwk);
  return { did, kid: `${did}#${did.slice("did:key:".length)}`, alg, publicKeyJwk, privateKeyJwk };
}

function credential(issuer, subject, id) {
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
      id: subject.did,
      achievement: { title: "EV high-voltage safety", ects: 2, eqfLevel: 5 },
    },
    credentialSchema: { id: `${TSR}/${attestationSchema.id.multibase_base58btc}`, type: "FullJsonSchemaValidator2021" },
  };
}

async function gen({ n, out, counts, algs }) {
  const options = offlineOptions({ validAt: unix(VERIFY_AT) });
  const groups = {};
  for (const alg of algs) {
    const issuers = [];
    for (let i = 0; i < ISSUERS_PER_ALG; i += 1) issuers.push(await newKey(alg));
    for (const count of counts) {
      const vps = [];
      for (let i = 0; i < n; i += 1) {
        const holder = await newKey(alg);
        const vcs = [];
        for (let j = 0; j < count; j += 1) {
          const issuer = issuers[(i + j) % issuers.length];
          const payload = credential(issuer, holder, `urn:uuid:bench-${alg}-${count}-${i}-${j}`);
          vcs.push(await atTime(unix(ISSUED), () => createVerifiableCredentialJwt(payload, issuer, options)));
        }
        const vp = {
          "@context": ["https://www.w3.org/2018/credentials/v1"],
          id: `urn:uuid:bench-vp-${alg}-${count}-${i}`,
          type: ["VerifiablePresentation"],
          holder: holder.did,
          verifiableCredential: vcs,
        };
        const vpOptions = { ...options, nonce: NONCE, nbf: unix(VP_IAT), exp: unix(VP_EXP) };
        vps.push(await atTime(unix(VP_IAT), () => createVerifiablePresentationJwt(vp, holder, AUDIENCE, vpOptions)));
      }
      groups[`${alg}/${count}`] = vps;
    }
  }
  const workload = { verify_at: VERIFY_AT, nonce: NONCE, audience: AUDIENCE, groups };
  writeFileSync(out, JSON.stringify(workload));
}

async function verify({ input, seconds }) {
  const workload = JSON.parse(readFileSync(input, "utf8"));
  const options = offlineOptions({ validAt: unix(workload.verify_at) });
  const results = {};
  for (const [name, vps] of Object.entries(workload.groups)) {
    // warm up: JIT, module-level memos (the same for every library measured)
    await ebsiVerdict({ kind: "vp", jwt: vps[0], audience: workload.audience, options });
    let count = 0;
    let valid = 0;
    let firstError = null;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      const verdict = await ebsiVerdict({ kind: "vp", jwt: vps[count % vps.length], audience: workload.audience, options });
      count += 1;
      if (verdict.valid) valid += 1;
      else firstError ??= verdict.error;
    }
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    results[name] = {
      verifications: count, valid, first_error: firstError, wall_s: wall, cpu_s: cpuSeconds,
      per_s: count / wall, per_cpu_s: count / cpuSeconds,
    };
  }
  process.stdout.write(`${JSON.stringify({ groups: results })}\n`);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    n: { type: "string", default: "50" }, out: { type: "string" }, in: { type: "string" }, seconds: { type: "string", default: "3" },
    counts: { type: "string", default: "1,5" }, algs: { type: "string", default: "ES256,EdDSA" },
  },
});
const counts = values.counts.split(",").map(Number);
const algs = values.algs.split(",");
if (counts.some((c) => !Number.isInteger(c) || c < 1) || algs.some((a) => !["ES256", "EdDSA"].includes(a))) {
  process.stderr.write("--counts: positive integers, --algs: ES256 and/or EdDSA\n");
  process.exit(2);
}
if (positionals[0] === "gen" && values.out) await gen({ n: Number(values.n), out: values.out, counts, algs });
else if (positionals[0] === "verify" && values.in) await verify({ input: values.in, seconds: Number(values.seconds) });
else {
  process.stderr.write("usage: bench_verify.mjs gen --n N --out FILE [--counts 1,5] [--algs ES256,EdDSA] | verify --in FILE [--seconds S]\n");
  process.exit(2);
}
