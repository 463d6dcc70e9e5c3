// Offline harness around EBSI's own verifier libraries (test tooling only).
//
// Why: @cef-ebsi/verifiable-credential fetches status lists (and unknown JSON
// schemas / documents) through the global axios instance. We replace axios'
// transport with an in-memory map so that nothing ever leaves the machine: a
// URL that is not in the map fails like a network error, which the library
// reports as an ordinary verification error. did:key DIDs resolve locally
// (@cef-ebsi/key-did-resolver) and the EBSI attestation / status-list JSON
// schemas are bundled in the library (pre-registered in its Ajv instance), so
// with did:key issuers every check runs without EBSI's TIR/DIDR/TSR.
import axios from "axios";
import { memoizeClear } from "memoize";
import { getAjvInstance, memoizedGet, verifyCredentialJwt } from "@cef-ebsi/verifiable-credential";
import { verifyPresentationJwt } from "@cef-ebsi/verifiable-presentation";

/** Hostname of EBSI's pilot APIs; only used to build (unreached) default URLs. */
export const EBSI_AUTHORITY = "api-pilot.ebsi.eu";

/** Documents served by the fake transport: url -> body (string or JSON). */
const documents = new Map();

export function serveDocuments(map) {
  for (const [url, body] of Object.entries(map ?? {})) documents.set(url, body);
}

/**
 * Forget served documents AND the libraries' caches (memoized GETs, the Ajv instance holding
 * downloaded schemas), so one verification cannot see documents served for another.
 */
export function clearDocuments() {
  documents.clear();
  memoizeClear(memoizedGet);
  memoizeClear(getAjvInstance);
}

axios.defaults.adapter = async (config) => {
  const url = config.url;
  if (documents.has(url)) {
    return { data: documents.get(url), status: 200, statusText: "OK", headers: {}, config, request: {} };
  }
  const err = new Error(`offline: no document for ${url}`);
  err.config = config;
  throw err;
};

/** Run fn with Date.now() pinned to `unixSeconds` (the libraries read the clock directly). */
export async function atTime(unixSeconds, fn) {
  const realNow = Date.now;
  Date.now = () => unixSeconds * 1000;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
  }
}

/**
 * EBSI option set that works offline for did:key issuers and holders.
 * `statusBase` must be a prefix of every statusListCredential URL: the library
 * only accepts status lists under config.trustedIssuersRegistry.
 */
export function offlineOptions({ validAt, statusBase, extra } = {}) {
  const options = {
    ebsiAuthority: EBSI_AUTHORITY,
    timeout: 2000,
    ...(validAt !== undefined && { validAt }),
    ...(statusBase && {
      ebsiEnvConfig: {
        didRegistry: `https://${EBSI_AUTHORITY}/did-registry/v5/identifiers`,
        trustedIssuersRegistry: statusBase,
        trustedPoliciesRegistry: `https://${EBSI_AUTHORITY}/trusted-policies-registry/v3/users`,
      },
    }),
    ...extra,
  };
  return options;
}

/** Ask the EBSI library for its verdict; never throws. */
export async function ebsiVerdict({ kind, jwt, audience, options }) {
  try {
    const at = options.validAt ?? Math.floor(Date.now() / 1000);
    const result = await atTime(at, () =>
      kind === "vp" ? verifyPresentationJwt(jwt, audience ?? "", options) : verifyCredentialJwt(jwt, options),
    );
    return { valid: true, error: null, error_name: null, result };
  } catch (e) {
    return {
      valid: false,
      error: e instanceof Error ? e.message : String(e),
      error_name: e instanceof Error ? e.name : typeof e,
      result: null,
    };
  }
}
