// Mailboxes: status, today's capacity as bars, warm-up, pause/resume, verify, add SMTP/SES,
// and "connect Gmail/Outlook" through the provider's consent page and back here.
// "Authentication" (#/mailboxes?auth=<id>) opens the SPF/DKIM/DMARC panel of one mailbox.
// Every value goes into the page as text (ui.h), never as HTML.
import { alignedBadge, authPanel } from "../sender_auth.js";

const RETURN_TO = "/app/#/mailboxes"; // the callback sends the browser back here (same origin)
const PENDING = "sendrail.connecting"; // sessionStorage: the mailbox whose consent is under way

function capacity(ui, server) {
  if (!server) return "—";
  const used = server.daily_used || 0;
  if (!server.daily_limit) return `${used} sent today (no daily cap)`;
  return ui.bar(used, server.daily_limit, `Sent today: ${used} of ${server.daily_limit}`);
}

async function warmup(ui, api, mailbox) {
  if (!mailbox.warmup) return "off";
  try {
    const w = await api("GET", `/api/mailboxes/${encodeURIComponent(mailbox.id)}/warmup`);
    const ahead = (w.schedule || []).slice(1, 4).map((d) => `${d.date.slice(5)}: ${d.allowance}`);
    return ui.h(
      "div",
      {},
      ui.h("div", {}, `${w.today_allowance ?? "—"} allowed today`),
      ahead.length ? ui.h("div", { class: "hint" }, `then ${ahead.join(", ")}`) : null,
      w.holding ? ui.h("div", {}, ui.badge("holding"), w.reason ? ` ${w.reason}` : "") : null,
    );
  } catch (error) {
    return ui.h("span", { class: "muted" }, ui.errorText(error));
  }
}

async function goToConsent(api, mailboxId) {
  // A fresh consent link whose callback returns to this page, then off to the provider.
  const linked = await api("POST", `/api/mailboxes/${encodeURIComponent(mailboxId)}/connect`, {
    return_to: RETURN_TO,
  });
  const link = new URL(linked.authorize_url);
  if (link.protocol !== "https:" && link.protocol !== "http:") throw new Error("the consent link is not a web address");
  sessionStorage.setItem(PENDING, mailboxId);
  window.location.assign(link.href);
}

function form(ui, label, fields, submitLabel, onSubmit) {
  const box = ui.h("div", { role: "status" });
  const node = ui.h(
    "form",
    {
      class: "card",
      "aria-label": label,
      onsubmit: async (event) => {
        event.preventDefault();
        const submit = node.querySelector("button[type=submit]");
        box.replaceChildren();
        await ui.busy(submit, box, () => onSubmit(node));
      },
    },
    ui.h("h3", {}, label),
    fields,
    ui.h("button", { type: "submit" }, submitLabel),
    box,
  );
  return node;
}

function oauthForm(ui, api) {
  const provider = ui.h(
    "select",
    { name: "oauth_provider" },
    ui.h("option", { value: "gmail" }, "Gmail / Google Workspace"),
    ui.h("option", { value: "outlook" }, "Outlook / Microsoft 365"),
  );
  const email = ui.h("input", { type: "email", name: "oauth_email", required: true, autocomplete: "off" });
  return form(
    ui,
    "Connect Gmail or Outlook",
    [
      ui.h("p", { class: "hint" }, "You allow sending at Google or Microsoft, then come back here."),
      ui.field("Provider", provider),
      ui.field("Email address", email),
    ],
    "Connect",
    async () => {
      const created = await api("POST", "/api/mailboxes", { provider: provider.value, email: email.value.trim() });
      await goToConsent(api, created.id);
    },
  );
}

function smtpForm(ui, api, added) {
  const f = {
    email: ui.h("input", { type: "email", name: "smtp_email", required: true, autocomplete: "off" }),
    fromName: ui.h("input", { type: "text", name: "smtp_from_name" }),
    host: ui.h("input", { type: "text", name: "smtp_host", required: true, autocomplete: "off" }),
    port: ui.h("input", { type: "number", name: "smtp_port", min: 1, max: 65535, defaultValue: "587", required: true }),
    security: ui.h(
      "select",
      { name: "smtp_security" },
      ui.h("option", { value: "starttls" }, "STARTTLS"),
      ui.h("option", { value: "tls" }, "TLS"),
      ui.h("option", { value: "none" }, "none (local servers only)"),
    ),
    username: ui.h("input", { type: "text", name: "smtp_username", autocomplete: "off" }),
    password: ui.h("input", { type: "password", name: "smtp_password", autocomplete: "new-password" }),
    daily: ui.h("input", { type: "number", name: "smtp_daily_limit", min: 0, defaultValue: "500" }),
  };
  return form(
    ui,
    "Add an SMTP server",
    [
      ui.field("Email address", f.email),
      ui.field("From name", f.fromName),
      ui.field("SMTP host", f.host),
      ui.field("Port", f.port),
      ui.field("Security", f.security),
      ui.field("Username", f.username),
      ui.field("Password", f.password),
      ui.field("Daily limit", f.daily, "0: no daily cap"),
    ],
    "Add SMTP mailbox",
    async (node) => {
      const smtp = { host: f.host.value.trim(), port: Number(f.port.value), security: f.security.value };
      if (f.username.value) smtp.username = f.username.value;
      if (f.password.value) smtp.password = f.password.value;
      const body = { provider: "smtp", email: f.email.value.trim(), smtp, daily_limit: Number(f.daily.value || 0) };
      if (f.fromName.value.trim()) body.from_name = f.fromName.value.trim();
      const created = await api("POST", "/api/mailboxes", body);
      node.reset();
      await added(created);
    },
  );
}

function sesForm(ui, api, added) {
  const email = ui.h("input", { type: "email", name: "ses_email", required: true, autocomplete: "off" });
  const fromName = ui.h("input", { type: "text", name: "ses_from_name" });
  const daily = ui.h("input", { type: "number", name: "ses_daily_limit", min: 0, defaultValue: "0" });
  return form(
    ui,
    "Add an Amazon SES identity",
    [
      ui.field("Verified sender address", email),
      ui.field("From name", fromName),
      ui.field("Daily limit", daily, "0: the account's SES quota"),
    ],
    "Add SES mailbox",
    async (node) => {
      const body = { provider: "ses", email: email.value.trim(), daily_limit: Number(daily.value || 0) };
      if (fromName.value.trim()) body.from_name = fromName.value.trim();
      const created = await api("POST", "/api/mailboxes", body);
      node.reset();
      await added(created);
    },
  );
}

// Health over 30 days: sends, bounce and complaint rates, the current error streak.
async function health(ui, api, mailbox) {
  try {
    const st = await api("GET", `/api/mailboxes/${encodeURIComponent(mailbox.id)}/stats?days=30`);
    const pct = (rate) => `${(rate * 100).toFixed(1)} %`;
    return ui.h(
      "div",
      {},
      ui.h("div", {}, `${st.totals.sent} sent in 30 days`),
      ui.h("div", { class: "hint" }, `bounces ${pct(st.bounce_rate)} · complaints ${pct(st.complaint_rate)}`),
      st.consecutive_errors ? ui.h("div", { class: "hint" }, `${st.consecutive_errors} errors in a row`) : null,
    );
  } catch (error) {
    return ui.h("span", { class: "muted" }, ui.errorText(error));
  }
}

function numberOrNull(input) {
  const value = input.value.trim();
  return value === "" ? null : Number(value);
}

// Limits, warm-up, tags and from name of one mailbox (PATCH), and archiving it.
function editor(ui, api, m, saved, archived, close) {
  const w = m.warmup || {};
  const fromName = ui.h("input", { type: "text", name: "edit_from_name", value: m.from_name || "" });
  const daily = ui.h("input", { type: "number", name: "edit_daily_limit", min: 0, value: m.daily_limit ?? 0 });
  const hourly = ui.h("input", { type: "number", name: "edit_hourly_limit", min: 0, value: m.hourly_limit ?? "", placeholder: "none" });
  const tags = ui.h("input", { type: "text", name: "edit_tags", value: (m.tags || []).join(", "), placeholder: "newsletter, eu" });
  const warm = ui.h("input", { type: "checkbox", name: "edit_warmup", checked: Boolean(m.warmup) });
  const start = ui.h("input", { type: "number", name: "edit_warmup_start", min: 1, value: w.start_per_day ?? 20 });
  const increase = ui.h("input", { type: "number", name: "edit_warmup_increase", min: 1, max: 1000, step: "any", value: w.increase_percent ?? 30 });
  const max = ui.h("input", { type: "number", name: "edit_warmup_max", min: 1, value: w.max_per_day ?? (m.daily_limit || 500) });
  const box = ui.h("div", { role: "status" });
  const submit = ui.h("button", { type: "submit" }, "Save changes");
  const archive = ui.button("Archive", () => {
    if (!window.confirm(`Archive ${m.email}? Its queued mail moves to other mailboxes.`)) return;
    ui.busy(archive, box, async () => {
      await api("DELETE", `/api/mailboxes/${encodeURIComponent(m.id)}`);
      await archived(m);
    });
  }, "danger");
  const node = ui.h(
    "form",
    {
      class: "card section",
      "aria-label": `Edit ${m.email}`,
      onsubmit: async (event) => {
        event.preventDefault();
        box.replaceChildren();
        await ui.busy(submit, box, async () => {
          const body = {
            from_name: fromName.value.trim() || null,
            daily_limit: numberOrNull(daily) ?? 0,
            hourly_limit: numberOrNull(hourly),
            tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
            warmup: warm.checked
              ? { start_per_day: Number(start.value), increase_percent: Number(increase.value), max_per_day: Number(max.value) }
              : null,
          };
          const changed = await api("PATCH", `/api/mailboxes/${encodeURIComponent(m.id)}`, body);
          await saved(changed);
        });
      },
    },
    ui.h("h2", {}, `Edit ${m.email}`),
    ui.h(
      "div",
      { class: "fields" },
      ui.field("From name", fromName),
      ui.field("Daily limit", daily, "0: no daily cap"),
      ui.field("Hourly limit", hourly, "Empty: none"),
      ui.field("Tags", tags, "Comma separated; campaigns can pick mailboxes by tag"),
    ),
    ui.h("label", { class: "check" }, warm, "Warm up this mailbox"),
    ui.h(
      "div",
      { class: "fields" },
      ui.field("Start per day", start),
      ui.field("Increase per healthy day (%)", increase),
      ui.field("Up to per day", max),
    ),
    ui.h("div", { class: "row" }, submit, ui.button("Cancel", close, "secondary"), archive),
    box,
  );
  return node;
}

export default {
  route: "/mailboxes",
  title: "Mailboxes",
  nav: true,
  roles: ["owner", "sender", "viewer"],
  async render(root, ctx) {
    const { ui, api } = ctx;
    const canWrite = ctx.can("owner", "sender");
    const [box, say] = ui.status();
    const list = ui.h("section", { "aria-label": "Your mailboxes" });
    const editing = ui.h("div", {});
    const authBox = ui.h("div", {});
    root.append(ui.h("h1", {}, "Mailboxes"), box, authBox, list, editing);

    function edit(m) {
      const close = () => editing.replaceChildren();
      const form = editor(
        ui,
        api,
        m,
        async (changed) => {
          close();
          say(`${changed.email} saved.`, "ok");
          await load();
        },
        async (gone) => {
          close();
          say(`${gone.email} archived.`, "ok");
          await load();
        },
        close,
      );
      editing.replaceChildren(form);
      form.scrollIntoView({ block: "start" });
      form.querySelector("input").focus();
    }

    function act(button, message, call) {
      return ui.busy(button, box, async () => {
        await call();
        say(message, "ok");
        await load();
      });
    }

    function actions(m) {
      const id = encodeURIComponent(m.id);
      const buttons = [];
      const add = (label, kind, onclick) => {
        const b = ui.h("button", { type: "button", class: kind, "aria-label": `${label} ${m.email}` }, label);
        b.addEventListener("click", () => onclick(b));
        buttons.push(b);
      };
      if (m.status === "active") {
        add("Pause", "secondary", (b) => act(b, `${m.email} paused`, () => api("POST", `/api/mailboxes/${id}/pause`)));
      } else if (m.status === "paused") {
        add("Resume", "", (b) => act(b, `${m.email} resumed`, () => api("POST", `/api/mailboxes/${id}/resume`)));
      } else if (m.status === "pending_auth" || m.status === "needs_reauth") {
        add(m.status === "needs_reauth" ? "Reconnect" : "Connect", "", (b) => ui.busy(b, box, () => goToConsent(api, m.id)));
      }
      add("Edit", "secondary", () => edit(m));
      if (m.status === "active" || m.status === "paused") {
        add("Verify", "secondary", (b) =>
          ui.busy(b, box, async () => {
            const r = await api("POST", `/api/mailboxes/${id}/verify`);
            const failed = r.steps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.detail}`);
            say(r.ok ? `${m.email} can send (${r.steps.map((s) => s.step).join(", ")} ok)` : `${m.email} cannot send: ${failed.join("; ")}`, r.ok ? "ok" : "error");
            await load();
          }),
        );
      }
      return ui.h("div", { class: "row" }, buttons);
    }

    async function load() {
      const [mailboxes, servers] = await Promise.all([
        api("GET", "/api/mailboxes?limit=500"),
        api("GET", "/api/queue/servers"),
      ]);
      const byId = new Map(servers.items.map((s) => [s.id, s]));
      const shown = mailboxes.items.filter((m) => m.status !== "archived");
      const [warm, healthy] = await Promise.all([
        Promise.all(shown.map((m) => warmup(ui, api, m))),
        Promise.all(shown.map((m) => health(ui, api, m))),
      ]);
      const rows = shown.map((m, i) => ({ m, warm: warm[i], health: healthy[i], server: byId.get(m.id) }));
      const columns = [
        {
          label: "Mailbox",
          value: (r) => ui.h("div", {}, ui.h("strong", {}, r.m.email), ui.h("div", { class: "hint" }, [r.m.provider, r.m.from_name].filter(Boolean).join(" · "))),
        },
        {
          label: "Status",
          value: (r) =>
            ui.h(
              "div",
              {},
              ui.badge(r.m.status),
              r.m.pause_reason ? ui.h("div", { class: "hint" }, r.m.pause_reason) : null,
              r.m.verify_error ? ui.h("div", { class: "hint" }, `check: ${r.m.verify_error}`) : null,
            ),
        },
        {
          label: "Sender authentication",
          value: (r) =>
            ui.h(
              "div",
              { class: "row" },
              alignedBadge(ui, r.server && r.server.authentication),
              ui.h("a", { href: `#/mailboxes?auth=${encodeURIComponent(r.m.id)}`, "aria-label": `Authentication of ${r.m.email}` }, "Authentication"),
            ),
        },
        { label: "Used today", value: (r) => capacity(ui, r.server) },
        { label: "Warm-up", value: (r) => r.warm },
        { label: "Health", value: (r) => r.health },
      ];
      if (canWrite) columns.push({ label: "Actions", value: (r) => actions(r.m) });
      list.replaceChildren(
        rows.length ? ui.table(columns, rows, "Sending mailboxes") : ui.h("p", { class: "muted" }, "No mailboxes yet."),
      );
      return shown;
    }

    const shown = await load();
    const authId = new URLSearchParams(location.hash.split("?")[1] || "").get("auth");
    const checked = authId && shown.find((x) => x.id === authId);
    if (checked) {
      authBox.replaceChildren(ui.h("p", { class: "muted", role: "status" }, `Reading the DNS of ${checked.email}…`));
      try {
        const panel = await authPanel(ui, api, checked, "#/mailboxes");
        authBox.replaceChildren(panel);
        await load(); // the row's DMARC badge now has this check
        panel.querySelector("h2").tabIndex = -1;
        panel.querySelector("h2").focus();
      } catch (error) {
        if (error.status === 401) throw error;
        authBox.replaceChildren(ui.h("p", { class: "notice error", role: "alert" }, ui.errorText(error)));
      }
    }
    const pending = sessionStorage.getItem(PENDING);
    if (pending) {
      // Back from the provider's consent page.
      sessionStorage.removeItem(PENDING);
      const m = shown.find((x) => x.id === pending);
      if (m && m.status === "active") say(`${m.email} is connected and can send.`, "ok");
      else if (m) say(`${m.email} was not connected (consent not given). Press Connect to try again.`, "error");
    }
    if (canWrite) {
      const added = async (created) => {
        say(created.verify_error ? `${created.email} added; its check says: ${created.verify_error}` : `${created.email} added.`, created.verify_error ? "error" : "ok");
        await load();
      };
      root.append(
        ui.h(
          "section",
          { class: "section", "aria-label": "Add a mailbox" },
          ui.h("h2", {}, "Add a mailbox"),
          ui.h("div", { class: "grid two aligned" }, oauthForm(ui, api), smtpForm(ui, api, added), sesForm(ui, api, added)),
        ),
      );
    }
  },
};
