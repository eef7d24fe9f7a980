// Mailboxes: status, today's capacity as bars, warm-up, pause/resume, verify, add SMTP/SES,
// and "connect Gmail/Outlook" through the provider's consent page and back here.
// Every value goes into the page as text (ui.h), never as HTML.

const RETURN_TO = "/app/#/mailboxes";
const PENDING = "sendrail.connecting"; // sessionStorage: the mailbox whose consent is under way

function statusLabel(ui, status) {
  return ui.h("span", { class: `status status-${status}` }, status.replace("_", " "));
}

function capacity(ui, server) {
  if (!server) return ui.h("span", { class: "muted" }, "—");
  const limit = server.daily_limit || 0;
  const used = server.daily_used || 0;
  if (!limit) return ui.h("span", {}, `${used} sent today (no daily cap)`);
  return ui.bar(used, limit, `${used} of ${limit} today`);
}

async function warmupCell(ui, api, mailbox) {
  if (!mailbox.warmup) return ui.h("span", { class: "muted" }, "off");
  try {
    const w = await api("GET", `/api/mailboxes/${encodeURIComponent(mailbox.id)}/warmup`);
    const next = (w.schedule || []).slice(0, 3).map((d) => `${d.date}: ${d.allowance}`).join(", ");
    return ui.h(
      "span",
      { title: next ? `next days ${next}` : "" },
      `${w.today_allowance ?? "—"} today`,
      w.holding ? ui.h("span", { class: "status status-paused" }, ` holding${w.reason ? `: ${w.reason}` : ""}`) : "",
    );
  } catch {
    return ui.h("span", { class: "muted" }, "—");
  }
}

function smtpForm(ui, ctx, done) {
  const f = {
    email: ui.h("input", { type: "email", name: "email", required: true, autocomplete: "off" }),
    from_name: ui.h("input", { type: "text", name: "from_name" }),
    host: ui.h("input", { type: "text", name: "host", required: true }),
    port: ui.h("input", { type: "number", name: "port", min: 1, max: 65535, value: "587", required: true }),
    security: ui.h(
      "select",
      { name: "security" },
      ui.h("option", { value: "starttls" }, "STARTTLS"),
      ui.h("option", { value: "tls" }, "TLS"),
      ui.h("option", { value: "none" }, "none"),
    ),
    username: ui.h("input", { type: "text", name: "username", autocomplete: "off" }),
    password: ui.h("input", { type: "password", name: "password", autocomplete: "new-password" }),
    daily_limit: ui.h("input", { type: "number", name: "daily_limit", min: 0, value: "500" }),
  };
  const msg = ui.h("div", { class: "form-notice", role: "status" });
  const form = ui.h(
    "form",
    {
      class: "card form-grid",
      "aria-label": "Add an SMTP mailbox",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const smtp = {
          host: f.host.value.trim(),
          port: Number(f.port.value),
          security: f.security.value,
        };
        if (f.username.value) smtp.username = f.username.value;
        if (f.password.value) smtp.password = f.password.value;
        const body = { provider: "smtp", email: f.email.value.trim(), smtp, daily_limit: Number(f.daily_limit.value || 0) };
        if (f.from_name.value.trim()) body.from_name = f.from_name.value.trim();
        try {
          const created = await ctx.api("POST", "/api/mailboxes", body);
          form.reset();
          done(created.verify_error ? `Added ${created.email}; its check says: ${created.verify_error}` : `Added ${created.email}`);
        } catch (err) {
          ui.notice(msg, err.message || "could not add the mailbox", "error");
        }
      },
    },
    ui.h("h3", {}, "SMTP server"),
    ui.field("Email address", f.email),
    ui.field("From name", f.from_name),
    ui.field("SMTP host", f.host),
    ui.field("Port", f.port),
    ui.field("Security", f.security),
    ui.field("Username", f.username),
    ui.field("Password", f.password),
    ui.field("Daily limit (0 = none)", f.daily_limit),
    ui.h("div", { class: "actions" }, ui.h("button", { type: "submit" }, "Add SMTP mailbox")),
    msg,
  );
  return form;
}

function sesForm(ui, ctx, done) {
  const email = ui.h("input", { type: "email", name: "ses_email", required: true });
  const fromName = ui.h("input", { type: "text", name: "ses_from_name" });
  const daily = ui.h("input", { type: "number", name: "ses_daily_limit", min: 0, value: "0" });
  const msg = ui.h("div", { class: "form-notice", role: "status" });
  const form = ui.h(
    "form",
    {
      class: "card form-grid",
      "aria-label": "Add an Amazon SES identity",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const body = { provider: "ses", email: email.value.trim(), daily_limit: Number(daily.value || 0) };
        if (fromName.value.trim()) body.from_name = fromName.value.trim();
        try {
          const created = await ctx.api("POST", "/api/mailboxes", body);
          form.reset();
          done(`Added ${created.email}`);
        } catch (err) {
          ui.notice(msg, err.message || "could not add the mailbox", "error");
        }
      },
    },
    ui.h("h3", {}, "Amazon SES"),
    ui.field("Verified sender address", email),
    ui.field("From name", fromName),
    ui.field("Daily limit (0 = the account's quota)", daily),
    ui.h("div", { class: "actions" }, ui.h("button", { type: "submit" }, "Add SES mailbox")),
    msg,
  );
  return form;
}

async function goToConsent(ctx, mailboxId) {
  // A consent link whose callback comes back to this page (a same-origin /app/ path).
  const linked = await ctx.api("POST", `/api/mailboxes/${encodeURIComponent(mailboxId)}/connect`, {
    return_to: RETURN_TO,
  });
  sessionStorage.setItem(PENDING, mailboxId);
  window.location.assign(linked.authorize_url);
}

function oauthForm(ui, ctx) {
  const email = ui.h("input", { type: "email", name: "oauth_email", required: true });
  const provider = ui.h(
    "select",
    { name: "oauth_provider" },
    ui.h("option", { value: "gmail" }, "Gmail / Google Workspace"),
    ui.h("option", { value: "outlook" }, "Outlook / Microsoft 365"),
  );
  const msg = ui.h("div", { class: "form-notice", role: "status" });
  const form = ui.h(
    "form",
    {
      class: "card form-grid",
      "aria-label": "Connect a Gmail or Outlook mailbox",
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          const created = await ctx.api("POST", "/api/mailboxes", {
            provider: provider.value,
            email: email.value.trim(),
          });
          await goToConsent(ctx, created.id);
        } catch (err) {
          ui.notice(msg, err.message || "could not start the connection", "error");
        }
      },
    },
    ui.h("h3", {}, "Gmail or Outlook"),
    ui.h("p", { class: "muted" }, "You will be sent to the provider to allow sending, then back here."),
    ui.field("Provider", provider),
    ui.field("Email address", email),
    ui.h("div", { class: "actions" }, ui.h("button", { type: "submit" }, "Connect")),
    msg,
  );
  return form;
}

export default {
  route: "/mailboxes",
  title: "Mailboxes",
  nav: true,
  roles: ["owner", "sender", "viewer"],
  async render(root, ctx) {
    const { ui, api } = ctx;
    const canWrite = ctx.can("owner", "sender");
    const status = ui.h("div", { class: "page-notice", role: "status", "aria-live": "polite" });
    const list = ui.h("div", { class: "list" });
    root.replaceChildren(
      ui.h("header", { class: "page-head" }, ui.h("h1", {}, "Mailboxes")),
      status,
      list,
    );

    const pending = sessionStorage.getItem(PENDING);

    async function act(label, fn) {
      try {
        await fn();
        ui.notice(status, label, "ok");
      } catch (err) {
        ui.notice(status, err.message || "that did not work", "error");
      }
      await load();
    }

    function actions(m) {
      if (!canWrite) return "";
      const id = encodeURIComponent(m.id);
      const buttons = [];
      if (m.status === "active") {
        buttons.push(
          ui.h("button", { type: "button", onclick: () => act(`Paused ${m.email}`, () => api("POST", `/api/mailboxes/${id}/pause`)) }, "Pause"),
        );
      }
      if (m.status === "paused") {
        buttons.push(
          ui.h("button", { type: "button", onclick: () => act(`Resumed ${m.email}`, () => api("POST", `/api/mailboxes/${id}/resume`)) }, "Resume"),
        );
      }
      if (m.status === "pending_auth" || m.status === "needs_reauth") {
        buttons.push(
          ui.h("button", { type: "button", onclick: () => goToConsent(ctx, m.id).catch((e) => ui.notice(status, e.message, "error")) }, m.status === "needs_reauth" ? "Reconnect" : "Connect"),
        );
      }
      if (m.status !== "pending_auth") {
        buttons.push(
          ui.h(
            "button",
            {
              type: "button",
              class: "secondary",
              onclick: async () => {
                try {
                  const r = await api("POST", `/api/mailboxes/${id}/verify`);
                  const failed = r.steps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.detail}`);
                  ui.notice(status, r.ok ? `${m.email} can send` : `${m.email} cannot send — ${failed.join("; ")}`, r.ok ? "ok" : "error");
                } catch (err) {
                  ui.notice(status, err.message, "error");
                }
              },
            },
            "Verify",
          ),
        );
      }
      return ui.h("div", { class: "row-actions", "aria-label": `Actions for ${m.email}` }, ...buttons);
    }

    async function load() {
      let mailboxes;
      let servers = [];
      try {
        mailboxes = (await api("GET", "/api/mailboxes?limit=500")).items;
        servers = (await api("GET", "/api/queue/servers")).items;
      } catch (err) {
        ui.notice(status, err.message || "could not load the mailboxes", "error");
        return;
      }
      const byId = new Map(servers.map((s) => [s.id, s]));
      if (pending) {
        const m = mailboxes.find((x) => x.id === pending);
        sessionStorage.removeItem(PENDING);
        if (m && m.status === "active") ui.notice(status, `${m.email} is connected and can send`, "ok");
        else if (m) ui.notice(status, `${m.email} is not connected yet (${m.status})`, "error");
      }
      const rows = await Promise.all(
        mailboxes
          .filter((m) => m.status !== "archived")
          .map(async (m) => ({
            mailbox: m,
            warm: await warmupCell(ui, api, m),
          })),
      );
      if (!rows.length) {
        list.replaceChildren(ui.h("p", { class: "empty" }, "No mailboxes yet. Add one below to start sending."));
        return;
      }
      list.replaceChildren(
        ui.table(
          [
            { label: "Mailbox", cell: (r) => ui.h("span", {}, ui.h("strong", {}, r.mailbox.email), ui.h("br"), ui.h("span", { class: "muted" }, r.mailbox.provider)) },
            { label: "Status", cell: (r) => ui.h("span", {}, statusLabel(ui, r.mailbox.status), r.mailbox.pause_reason ? ui.h("div", { class: "muted" }, r.mailbox.pause_reason) : "", r.mailbox.verify_error ? ui.h("div", { class: "error-text" }, r.mailbox.verify_error) : "") },
            { label: "Used today", cell: (r) => capacity(ui, byId.get(r.mailbox.id)) },
            { label: "Warm-up", cell: (r) => r.warm },
            ...(canWrite ? [{ label: "Actions", cell: (r) => actions(r.mailbox) }] : []),
          ],
          rows,
        ),
      );
    }

    await load();
    if (canWrite) {
      const refresh = (message) => {
        ui.notice(status, message, "ok");
        load();
      };
      root.append(
        ui.h(
          "section",
          { class: "add-forms", "aria-label": "Add a mailbox" },
          ui.h("h2", {}, "Add a mailbox"),
          ui.h("div", { class: "cards" }, oauthForm(ui, ctx), smtpForm(ui, ctx, refresh), sesForm(ui, ctx, refresh)),
        ),
      );
    }
  },
};
