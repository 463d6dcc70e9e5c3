// Registry page: search issuers (GET /v1/registry/issuers), show one issuer's accreditations
// (EBSI TIR v5 GET /trusted-issuers-registry/v5/issuers/{did}) and its evaluated chain
// (GET /v1/registry/accreditation). Everything is written with textContent, never as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("search-form");
  const statusLine = $("search-status");
  const list = $("issuers");
  const detail = $("issuer");
  const ROLES = { TI: "Issuer (TI)", TAO: "Accreditation body (TAO)", RootTAO: "Root of trust (RootTAO)" };
  const GENERIC = new Set(["VerifiableCredential", "VerifiableAttestation"]);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined || c === "") continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function day(value) {
    if (!value) return "";
    const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    if (Number.isNaN(d.getTime())) return String(value);
    return d.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
  }

  function jwtPayload(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const bytes = Uint8Array.from(atob(part), (ch) => ch.charCodeAt(0));
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (err) {
      return null;
    }
  }

  function jurisdiction(value) {
    const items = Array.isArray(value) ? value : value ? [value] : [];
    if (!items.length) return "everywhere";
    return items.map((v) => String(v).split("/").pop()).join(", ");
  }

  function chainDiagram(chain) {
    const ol = el("ol", { class: "chain", "aria-label": "Accreditation chain, from the issuer up to the root of trust" });
    for (const link of chain) {
      ol.append(el("li", { class: "chain-node" },
        el("span", { class: "role" }, ROLES[link.issuer_type] || link.issuer_type),
        el("strong", {}, link.name || "unnamed"),
        link.country ? el("span", { class: "country" }, link.country) : null,
        link.valid_until ? el("span", { class: "until" }, `accredited until ${day(link.valid_until)}`) : null,
        el("code", { class: "did" }, link.did)));
    }
    return ol;
  }

  function accreditationCard(attr, names) {
    const payload = jwtPayload(attr.body) || {};
    const vc = payload.vc || {};
    const kind = (vc.type || []).filter((t) => !GENERIC.has(t) && t !== "VerifiableAccreditation").join(", ");
    const grants = ((vc.credentialSubject || {}).accreditedFor || []);
    const by = payload.iss || vc.issuer || attr.tao;
    const dl = el("dl", { class: "facts" },
      el("dt", {}, "Role"), el("dd", {}, ROLES[attr.issuerType] || attr.issuerType),
      el("dt", {}, "Kind"), el("dd", {}, kind || "accreditation"),
      el("dt", {}, "Granted by"), el("dd", {}, names[by] || "", names[by] ? el("br") : null, el("code", { class: "did" }, by || "")),
      el("dt", {}, "Valid"), el("dd", {}, `${day(vc.validFrom || payload.nbf) || "?"} – ${day(vc.expirationDate || vc.validUntil || payload.exp) || "no end date"}`));
    for (const g of grants) {
      const types = (g.types || []).filter((t) => !GENERIC.has(t)).join(", ") || "any type";
      dl.append(el("dt", {}, "May issue"), el("dd", {}, `${types} — in ${jurisdiction(g.limitJurisdiction)}`));
    }
    return el("li", { class: "accreditation" }, dl);
  }

  async function getJson(url) {
    const resp = await fetch(url, { headers: { Accept: "application/json" } });
    return { ok: resp.ok, status: resp.status, body: resp.ok ? await resp.json() : null };
  }

  async function showIssuer(hit, button) {
    for (const b of list.querySelectorAll("button")) b.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-pressed", "true");
    detail.replaceChildren(el("p", {}, "Loading…"));
    const did = encodeURIComponent(hit.did);
    const [record, answer] = await Promise.all([
      getJson(`/trusted-issuers-registry/v5/issuers/${did}`),
      getJson(`/v1/registry/accreditation?issuer=${did}`),
    ]);
    const chain = answer.ok ? answer.body.chain || [] : [];
    const names = Object.fromEntries(chain.map((c) => [c.did, c.name]));
    const heading = el("h2", { id: "issuer-title", tabindex: "-1" }, hit.name || hit.did);
    const parts = [heading, el("p", {}, hit.country ? `Country: ${hit.country}` : "", hit.country ? el("br") : null, el("code", { class: "did" }, hit.did))];
    if (hit.revoked) parts.push(el("p", { class: "revoked" }, "This issuer's registration has been revoked."));
    if (answer.ok) {
      const a = answer.body;
      const verdict = a.accredited ? "Accredited: the chain below holds today." :
        a.indeterminate ? `Could not be checked right now: ${a.reason}` : `Not accredited: ${a.reason}`;
      parts.push(el("p", { class: a.accredited ? "st-passed" : "st-failed" }, verdict));
      if (chain.length) parts.push(el("h3", {}, "Accreditation chain"), chainDiagram(chain));
    }
    if (record.ok) {
      const attrs = record.body.attributes || [];
      parts.push(el("h3", {}, `Accreditations held (${attrs.length})`));
      parts.push(el("ul", { class: "accreditations problems" }, ...attrs.map((x) => accreditationCard(x, names))));
    } else {
      parts.push(el("p", { class: "note" }, `The issuer's record could not be read (HTTP ${record.status}).`));
    }
    detail.replaceChildren(...parts);
    heading.focus();
  }

  async function search(event) {
    if (event) event.preventDefault();
    const q = $("q").value.trim();
    const country = $("country").value.trim().toUpperCase();
    const params = new URLSearchParams({ page_size: "50" });
    if (q) params.set("q", q);
    if (country) params.set("country", country);
    const shown = new URLSearchParams();
    if (q) shown.set("q", q);
    if (country) shown.set("country", country);
    history.replaceState(null, "", shown.toString() ? `/registry?${shown}` : "/registry");
    statusLine.textContent = "Searching…";
    let answer;
    try {
      answer = await getJson(`/v1/registry/issuers?${params}`);
    } catch (err) {
      answer = { ok: false, status: 0 };
    }
    list.replaceChildren();
    if (!answer.ok) {
      statusLine.textContent = answer.status === 400 ? "Check the search fields (country: two letters)." :
        "Registry search unavailable on this service.";
      return;
    }
    const items = answer.body.items || [];
    statusLine.textContent = items.length ? `${items.length} issuer${items.length === 1 ? "" : "s"} found${answer.body.next ? " (showing the first 50)" : ""}.` :
      "No issuer matches.";
    for (const hit of items) {
      const button = el("button", { type: "button", "aria-pressed": "false", "data-did": hit.did },
        el("strong", {}, hit.name || hit.did), " ", el("span", { class: "country" }, hit.country ? `(${hit.country})` : ""),
        hit.revoked ? el("span", { class: "revoked" }, " revoked") : null, el("br"), el("code", { class: "did" }, hit.did));
      button.addEventListener("click", () => showIssuer(hit, button));
      list.append(el("li", {}, button));
    }
  }

  const initial = new URLSearchParams(location.search);
  $("q").value = initial.get("q") || "";
  $("country").value = initial.get("country") || "";
  form.addEventListener("submit", search);
  search();
})();
