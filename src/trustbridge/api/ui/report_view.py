"""A verification report as plain-language HTML for HR staff (pure: report dict in, HTML out).

One renderer serves the page without JavaScript (``POST /ui/verify``), the page with
JavaScript (the same endpoint asked for a fragment) and the wallet flow (the report a
presentation request ends with), so all three say exactly the same thing. Every value
from the credential is escaped; nothing from it becomes markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from html import escape
from typing import Any

from trustbridge.api.ui.explain import explain

VERDICTS: dict[str, tuple[str, str]] = {
    "valid": ("Authentic and accredited",
              "The signatures are genuine, the credential is current and not revoked, and its "
              "issuer is accredited through the trust chain shown below."),
    "valid_unaccredited": ("Authentic",
                           "The signatures are genuine and the credential is current; the "
                           "issuer's accreditation was not part of this check."),
    "invalid": ("Problems found",
                "Do not rely on this credential as it stands: the problems are explained "
                "below, each with what to do."),
    "indeterminate": ("Could not be checked",
                      "Some facts could not be obtained right now (nothing was proven either "
                      "way). Try again later; the reasons are below."),
}
ROLES = {"TI": "Issuer (TI)", "TAO": "Accreditation body (TAO)",
         "RootTAO": "Root of trust (RootTAO)"}
ESCO_PREFIX = "http://data.europa.eu/esco/"
UNSIGNED = frozenset({"structure", "credential_proof"})


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def human_time(value: object) -> str:
    """``2025-06-02T10:05:00+00:00`` as ``2 June 2025, 10:05 UTC``; other text unchanged."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    text = f"{at.day} {at:%B %Y}"
    if (at.hour, at.minute) != (0, 0):
        text += f", {at:%H:%M}" + (" UTC" if at.utcoffset() is not None else "")
    return text


def _dl(rows: Iterable[tuple[str, str]], cls: str = "facts") -> str:
    items = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows if v)
    return f'<dl class="{cls}">{items}</dl>' if items else ""


def _did(did: object) -> str:
    return f'<code class="did">{_e(did)}</code>' if did else ""


def _party(name: object, country: object, did: object) -> str:
    label = _e(name) if name else "<em>no name given</em>"
    if country:
        label += f' <span class="country">({_e(country)})</span>'
    return f"{label}<br>{_did(did)}" if did else label


def _check(checks: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((c for c in checks if c.get("check") == name), None)


def _validity(checks: list[dict[str, Any]]) -> str:
    c = _check(checks, "validity")
    if c is None:
        return ""
    if c["status"] == "passed":
        return "Within its validity period when checked."
    if c["status"] == "skipped":
        return "Not checked."
    return _e(explain(c["code"], "validity").what)


def _revocation(checks: list[dict[str, Any]]) -> str:
    c = _check(checks, "status")
    if c is None:
        return ""
    if c["status"] == "passed":
        return "Not revoked or suspended (checked against the issuer's status list)."
    if c["status"] == "skipped":
        return ("The issuer publishes no revocation status for this credential."
                if "declares no" in c.get("message", "") else "Not checked.")
    return _e(explain(c["code"], "status").what)


def render_chain(chain: list[dict[str, Any]]) -> str:
    """The accreditation chain as a small left-to-right diagram: TI → TAO → RootTAO."""
    if not chain:
        return ""
    nodes = []
    for link in chain:
        role = ROLES.get(str(link.get("issuer_type")), str(link.get("issuer_type", "")))
        until = human_time(link.get("valid_until"))
        nodes.append(
            f'<li class="chain-node"><span class="role">{_e(role)}</span>'
            f'<strong>{_e(link.get("name") or "unnamed")}</strong>'
            + (f'<span class="country">{_e(link["country"])}</span>' if link.get("country")
               else "")
            + (f'<span class="until">accredited until {_e(until)}</span>' if until else "")
            + f'{_did(link.get("did"))}</li>')
    return ('<ol class="chain" aria-label="Accreditation chain, from the issuer up to the '
            f'root of trust">{"".join(nodes)}</ol>')


def _skill(skill: Mapping[str, Any]) -> str:
    label = skill.get("label") or skill.get("uri") or skill.get("source_id") or "skill"
    uri = skill.get("uri")
    if isinstance(uri, str) and uri.startswith(ESCO_PREFIX):
        return (f'<li><a href="{_e(uri)}" rel="noopener noreferrer">{_e(label)}</a> '
                '<span class="tag">ESCO</span></li>')
    return f"<li>{_e(label)}</li>"


def _outcomes(outcomes: list[dict[str, Any]]) -> str:
    items = []
    for o in outcomes:
        skills = "".join(_skill(s) for s in o.get("skills", []))
        items.append(f"<li>{_e(o.get('text') or '')}"
                     + (f'<ul class="skills" aria-label="Skills">{skills}</ul>' if skills
                        else "") + "</li>")
    return f'<ul class="outcomes">{"".join(items)}</ul>' if items else ""


def _workload(w: Mapping[str, Any]) -> str:
    parts = []
    if w.get("ects") is not None:
        parts.append(f"{w['ects']:g} ECTS credits")
    if w.get("hours") is not None:
        parts.append(f"{w['hours']:g} hours")
    if w.get("duration"):
        parts.append(_e(w["duration"]))
    if w.get("other_credits") is not None:
        parts.append(f"{w['other_credits']:g} {_e(w.get('other_credit_framework') or 'credits')}")
    return ", ".join(parts)


def _level(level: Mapping[str, Any]) -> str:
    parts = []
    if level.get("eqf") is not None:
        parts.append(f"EQF level {_e(level['eqf'])}")
    if level.get("qf_ehea"):
        parts.append(f"QF-EHEA {_e(level['qf_ehea'])} cycle")
    if level.get("nqf"):
        parts.append(f"national level {_e(level['nqf'])}")
    return ", ".join(parts)


def _qa(entries: list[dict[str, Any]]) -> str:
    texts = [" — ".join(_e(v) for v in (q.get("type"), q.get("body"), q.get("reference")) if v)
             for q in entries]
    return "; ".join(t for t in texts if t)


def render_certifies(mc: Mapping[str, Any] | None, title: object) -> str:
    """What the credential certifies: the Annex I micro-credential elements it states."""
    if not mc:
        return _dl([("Title", _e(title))]) if title else ""
    supervision = mc.get("supervision") or {}
    rows = [
        ("Title", _e(mc.get("title") or title or "")),
        ("Description", _e(mc.get("description") or "")),
        ("Learning outcomes", _outcomes(mc.get("learning_outcomes", []))),
        ("Workload", _workload(mc.get("workload") or {})),
        ("Level", _level(mc.get("level") or {})),
        ("Assessment", _e(mc.get("assessment_type") or "")),
        ("Form of participation", _e(mc.get("participation_form") or "")),
        ("Learning setting", _e(mc.get("learning_setting") or "")),
        ("Identity checked at assessment", _e(supervision.get("label") or "")),
        ("Grade", _e(mc.get("grade") or "")),
        ("Prerequisites", _e("; ".join(mc.get("prerequisites", [])))),
        ("Quality assurance", _qa(mc.get("quality_assurance", []))),
        ("Can be combined with", _e("; ".join(mc.get("stackability", [])))),
    ]
    note = ""
    missing = [m.replace("_", " ") for m in mc.get("missing", [])]
    if missing:
        note = ('<p class="note">Not a complete EU micro-credential: it does not state '
                f"{_e(', '.join(missing))}.</p>")
    return _dl(rows) + note


def render_problems(checks: list[dict[str, Any]]) -> str:
    """Each failed or unobtainable check in one sentence, with what to do."""
    items = []
    for c in checks:
        if c.get("status") not in ("failed", "error"):
            continue
        ex = explain(str(c.get("code", "")), str(c.get("check", "")))
        items.append(
            f'<li class="problem problem-{_e(c["status"])}"><strong>{_e(ex.what)}</strong> '
            f'<span class="todo">What to do: {_e(ex.todo)}</span> '
            f'<span class="tech">Technical detail: {_e(c.get("message", ""))} '
            f'(<code>{_e(c.get("code", ""))}</code>)</span></li>')
    if not items:
        return ""
    return f'<ul class="problems">{"".join(items)}</ul>'


def _checks_table(checks: list[dict[str, Any]]) -> str:
    rows = "".join(
        f'<tr><td>{_e(c.get("check", ""))}</td><td class="st st-{_e(c.get("status", ""))}">'
        f'{_e(c.get("status", ""))}</td><td>{_e(c.get("message", ""))}</td></tr>'
        for c in checks)
    return ('<details class="checks"><summary>Every check performed</summary><table>'
            '<thead><tr><th scope="col">Check</th><th scope="col">Result</th>'
            f'<th scope="col">Detail</th></tr></thead><tbody>{rows}</tbody></table></details>')


def _credential(cred: Mapping[str, Any], index: int, count: int) -> str:
    checks: list[dict[str, Any]] = list(cred.get("checks", []))
    summary: Mapping[str, Any] = cred.get("summary") or {}
    issuer = summary.get("issuer") or {}
    subject = summary.get("subject") or {}
    mc = summary.get("microcredential")
    title = summary.get("title") or (mc or {}).get("title") or "Credential"
    trust = _check(checks, "issuer_trust") or {}
    chain = summary.get("chain") or trust.get("details", {}).get("chain") or []
    types = [t for t in summary.get("types", []) if t != "VerifiableCredential"]
    heading = _e(title) + (f" <small>({index + 1} of {count})</small>" if count > 1 else "")
    verdict = _e(cred.get("verdict", ""))
    facts = _dl([
        ("Issued by", _party(issuer.get("name"), issuer.get("country"), issuer.get("did"))
         if issuer else ""),
        ("Issued to", _party(subject.get("name"), None, subject.get("id")) if subject else ""),
        ("Issued on", _e(human_time(summary.get("issued")))),
        ("Valid until", _e(human_time(summary.get("expires"))) if summary.get("expires")
         else ("No end date" if summary else "")),
        ("Validity", _validity(checks)),
        ("Revocation", _revocation(checks)),
        ("Kind of credential", _e(", ".join(types))),
    ])
    # a credential whose signature does not hold only *claims* its content: say so, and
    # drop the chain (it was evaluated for whoever the document names as issuer)
    unconfirmed = any(c.get("status") == "failed" and c.get("check") in UNSIGNED
                      for c in checks)
    chain_html = "" if unconfirmed else render_chain(chain)
    certifies = render_certifies(mc, summary.get("title"))
    problems = render_problems(checks)
    parts = [f'<article class="credential cred-{verdict}" aria-labelledby="cred-{index}">',
             f'<h3 id="cred-{index}">{heading}</h3>']
    if unconfirmed:
        parts.append('<p class="note unconfirmed">Unconfirmed: the signature does not hold, so '
                     "the details below are only what the document claims.</p>")
    parts.append(facts)
    if problems:
        parts.append(f"<h4>Problems with this credential</h4>{problems}")
    if chain_html:
        parts.append(f"<h4>Accreditation chain</h4>{chain_html}")
    if certifies:
        parts.append(f"<h4>What it certifies</h4>{certifies}")
    parts.append(_checks_table(checks))
    parts.append("</article>")
    return "".join(parts)


def verdict_key(report: Mapping[str, Any]) -> str:
    """``valid`` only when every credential's issuer trust passed, else ``valid_unaccredited``."""
    verdict = str(report.get("verdict", "indeterminate"))
    if verdict != "valid":
        return verdict if verdict in VERDICTS else "indeterminate"
    creds = report.get("credentials") or []
    trusted = bool(creds) and all(
        (_check(list(c.get("checks", [])), "issuer_trust") or {}).get("status") == "passed"
        for c in creds)
    return "valid" if trusted else "valid_unaccredited"


def render_report(report: Mapping[str, Any]) -> str:
    """The whole result section: verdict banner, presentation problems, each credential."""
    key = verdict_key(report)
    title, lead = VERDICTS[key]
    creds = list(report.get("credentials") or [])
    top_problems = render_problems(list(report.get("checks", [])))
    holder = report.get("holder")
    parts = [
        f'<section class="result result-{key}" aria-labelledby="verdict-title">',
        f'<div class="banner banner-{key}" data-verdict="{_e(report.get("verdict", ""))}">',
        f'<h2 id="verdict-title" tabindex="-1">{_e(title)}</h2><p>{_e(lead)}</p></div>',
    ]
    if holder:
        parts.append(f'<p class="holder">Presented by {_did(holder)}</p>')
    if top_problems:
        parts.append(f"<h3>Problems with the presentation</h3>{top_problems}")
    parts.extend(_credential(c, i, len(creds)) for i, c in enumerate(creds))
    if not creds and not top_problems:
        parts.append(_checks_table(list(report.get("checks", []))))
    parts.append(f'<p class="checked-at">Checked {_e(human_time(report.get("checked_at")))} '
                 "by TrustBridge.</p></section>")
    return "".join(parts)


def render_message(title: str, text: str, *, kind: str = "indeterminate") -> str:
    """A banner without a report: unreadable input, a wallet that declined, an expiry."""
    return (f'<section class="result result-{_e(kind)}" aria-labelledby="verdict-title">'
            f'<div class="banner banner-{_e(kind)}"><h2 id="verdict-title" tabindex="-1">'
            f"{_e(title)}</h2><p>{_e(text)}</p></div></section>")


__all__ = [
    "VERDICTS",
    "human_time",
    "render_certifies",
    "render_chain",
    "render_message",
    "render_problems",
    "render_report",
    "verdict_key",
]
