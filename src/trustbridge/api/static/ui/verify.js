// Verification page: progressive enhancement of a form that works without JavaScript.
// The server renders every result (POST /ui/verify?view=fragment, or a wallet request's
// /ui/presentations/{id}/result), so this script only moves data and focus around.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("verify-form");
  const input = $("input");
  const file = $("file");
  const drop = $("drop");
  const result = $("result");
  const actions = $("result-actions");
  const verifyButton = $("verify-button");
  const FINAL = new Set(["verified", "failed", "expired"]);

  for (const el of document.querySelectorAll(".needs-js")) el.hidden = false;
  if (!result.firstElementChild) actions.hidden = true;

  function show(html) {
    result.innerHTML = html; // server-rendered, every credential value escaped there
    actions.hidden = !result.firstElementChild;
    const heading = result.querySelector("#verdict-title");
    if (heading) heading.focus({ preventScroll: false });
  }

  async function submitForm(event) {
    event.preventDefault();
    verifyButton.disabled = true;
    verifyButton.textContent = "Checking…";
    try {
      const resp = await fetch("/ui/verify?view=fragment", {
        method: "POST", body: new FormData(form), headers: { Accept: "text/html" },
      });
      if (!(resp.headers.get("Content-Type") || "").startsWith("text/html")) {
        const problem = await resp.json().catch(() => ({}));
        throw new Error(problem.detail || `the service answered HTTP ${resp.status}`);
      }
      show(await resp.text());
    } catch (err) {
      show('<section class="result"><div class="banner banner-indeterminate">' +
           '<h2 id="verdict-title" tabindex="-1">Could not be checked</h2><p></p></div></section>');
      result.querySelector(".banner p").textContent =
        `${err.message || "The service did not answer"}. Check the input and your connection, then try again.`;
    } finally {
      verifyButton.disabled = false;
      verifyButton.textContent = "Verify";
    }
  }

  function readFile(f) {
    if (!f) return;
    const reader = new FileReader();
    reader.onload = () => { input.value = String(reader.result); file.value = ""; };
    reader.readAsText(f);
  }

  form.addEventListener("submit", submitForm);
  file.addEventListener("change", () => readFile(file.files[0]));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    readFile(e.dataTransfer.files[0]);
  });

  $("print-button").addEventListener("click", () => window.print());
  window.addEventListener("beforeprint", () => {
    for (const d of result.querySelectorAll("details")) d.open = true;
  });

  // -- "Request from wallet": OpenID4VP request, QR code, live answer ---------------------
  const walletButton = $("wallet-button");
  const flow = $("wallet-flow");
  const status = $("wallet-status");
  let stop = () => {};

  const STATUS_TEXT = {
    pending: "Waiting for the wallet…",
    received: "Answer received, checking it…",
  };

  async function showOutcome(id) {
    const resp = await fetch(`/ui/presentations/${encodeURIComponent(id)}/result`);
    show(await resp.text());
  }

  function follow(id) {
    let done = false;
    let timer = null;
    let source = null;
    const finish = async (state) => {
      if (done) return;
      done = true;
      stop();
      status.textContent = state === "verified" ? "Answer received." :
        state === "expired" ? "The request expired." : "Answer received.";
      flow.hidden = true;
      walletButton.disabled = false;
      await showOutcome(id);
    };
    const update = (view) => {
      if (FINAL.has(view.status)) return finish(view.status);
      status.textContent = STATUS_TEXT[view.status] || view.status;
    };
    const poll = async () => {
      try {
        const resp = await fetch(`/v1/presentation-requests/${encodeURIComponent(id)}`);
        if (resp.ok) await update(await resp.json());
      } catch (err) { /* keep polling */ }
      if (!done) timer = setTimeout(poll, 2000);
    };
    stop = () => {
      done = true;
      if (source) source.close();
      if (timer) clearTimeout(timer);
    };
    if ("EventSource" in window) {
      source = new EventSource(`/v1/presentation-requests/${encodeURIComponent(id)}/events`);
      source.addEventListener("status", (e) => update(JSON.parse(e.data)));
      source.onerror = () => { // fall back to polling (proxy without streaming, or closed)
        source.close();
        source = null;
        if (!done && !timer) poll();
      };
    } else {
      poll();
    }
  }

  walletButton.addEventListener("click", async () => {
    walletButton.disabled = true;
    status.textContent = "Preparing the request…";
    try {
      const resp = await fetch("/v1/presentation-requests", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ types: [$("wallet-type").value] }),
      });
      const created = await resp.json();
      if (!resp.ok) throw new Error(created.detail || "request refused");
      $("wallet-qr").src = `/v1/presentation-requests/${encodeURIComponent(created.id)}/qr.svg`;
      const link = $("wallet-link");
      link.href = created.authorization_request.deep_link;
      link.dataset.requestId = created.id;
      flow.hidden = false;
      status.textContent = STATUS_TEXT.pending;
      link.focus();
      follow(created.id);
    } catch (err) {
      walletButton.disabled = false;
      flow.hidden = false;
      status.textContent = `The request could not be started: ${err.message}`;
    }
  });

  $("wallet-cancel").addEventListener("click", () => {
    stop();
    flow.hidden = true;
    walletButton.disabled = false;
    walletButton.focus();
  });
})();
