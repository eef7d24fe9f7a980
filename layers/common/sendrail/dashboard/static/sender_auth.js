// The sender authentication panel of one mailbox (GET /api/mailboxes/{id}/authentication):
// SPF, DKIM, DMARC and MX of its domain, and what to change. Values only ever as text.

const STATUS_KIND = {
  ok: "good", found: "good", monitoring: "warn", unverified: "warn",
  timeout: "unknown", dns_error: "unknown",
};

function status(ui, value) {
  return ui.h("span", { class: `badge auth-${STATUS_KIND[value] || "bad"}` }, value || "—");
}

function line(ui, label, value, ...details) {
  return ui.h("div", {}, ui.h("dt", {}, label), ui.h("dd", {}, status(ui, value), ...details.filter(Boolean)));
}

function code(ui, text) {
  return text ? ui.h("code", { class: "record" }, text) : null;
}

// A compact badge for a mailbox row from /api/queue/servers' cached `authentication`.
export function alignedBadge(ui, auth) {
  if (!auth) return ui.h("span", { class: "badge" }, "DMARC not checked");
  return auth.dmarc_aligned
    ? ui.h("span", { class: "badge auth-good", title: `checked ${ui.fmtTime(auth.checked_at)}` }, "DMARC aligned")
    : ui.h("span", { class: "badge auth-bad", title: `checked ${ui.fmtTime(auth.checked_at)}` }, "DMARC not aligned");
}

export async function authPanel(ui, api, mailbox, closeHref) {
  const a = await api("GET", `/api/mailboxes/${encodeURIComponent(mailbox.id)}/authentication`);
  const selectors = (a.dkim.selectors || []).map((s) => `${s.selector}: ${s.status}`).join(", ");
  const hosts = (a.mx.hosts || []).map((m) => `${m.preference} ${m.host}`).join(", ");
  const dmarcNote = [a.dmarc.policy ? `policy ${a.dmarc.policy}` : null, a.dmarc.aligned ? "aligned" : "not aligned"]
    .filter(Boolean).join(" · ");
  const advice = a.advice.length
    ? ui.h("ul", { class: "advice" }, a.advice.map((x) => ui.h("li", {}, ui.h("strong", {}, x.code), ` ${x.message}`)))
    : ui.h("p", { class: "muted" }, "Nothing to change.");
  return ui.h(
    "section",
    { class: "card section auth", role: "region", "aria-label": `Authentication of ${mailbox.email}` },
    ui.h("div", { class: "row spread" },
      ui.h("h2", {}, `Authentication of ${mailbox.email}`),
      ui.h("a", { href: closeHref, class: "button secondary" }, "Close")),
    ui.h("p", { class: "hint" }, `Domain ${a.domain} · DNS read ${ui.fmtTime(a.checked_at)}${a.cached ? " (cached)" : ""}`),
    ui.h("dl", { class: "checks" },
      line(ui, "SPF", a.spf.status, code(ui, a.spf.record)),
      line(ui, "DKIM", a.dkim.status, selectors ? ui.h("span", { class: "hint" }, ` ${selectors}`) : null),
      line(ui, "DMARC", a.dmarc.status, ui.h("span", { class: "hint" }, ` ${dmarcNote}`), code(ui, a.dmarc.record)),
      line(ui, "MX", a.mx.status, hosts ? ui.h("span", { class: "hint" }, ` ${hosts}`) : null)),
    ui.h("h3", {}, "Advice"),
    advice,
  );
}
