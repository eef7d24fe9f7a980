// A new campaign, and the draft editor: details, a live server-rendered preview, the
// recipients' CSV, the content check, a test send to myself, and the start.
const STARTER = `<h1>Hello {{ first_name }}</h1>
<p>Write your message here. Merge tags come from the CSV's columns.</p>
<p><a href="https://example.com/">A link</a></p>`;
const PREVIEW_DELAY_MS = 700;

function editor(mode) {
  return async function render(root, ctx) {
    const { h, field, notice, busy, errorText, table } = ctx.ui;
    const messages = h("div", {});
    let campaign = null;
    if (mode === "edit") {
      campaign = await ctx.api("GET", `/api/campaigns/${encodeURIComponent(ctx.params.id)}`);
    }
    const mailboxes = (await ctx.api("GET", "/api/mailboxes?limit=500")).items
      .filter((m) => m.status !== "archived");
    const base = () => `/api/campaigns/${encodeURIComponent(campaign.id)}`;

    // --- details ----------------------------------------------------------------------
    const name = h("input", { type: "text", required: true, maxLength: 200, value: campaign ? campaign.name : "" });
    const subject = h("input", { type: "text", required: true, maxLength: 998, value: campaign ? campaign.subject : "" });
    const fromName = h("input", { type: "text", maxLength: 200, value: (campaign && campaign.from_name) || "" });
    const html = h("textarea", { required: true, spellcheck: false, value: campaign ? campaign.html : STARTER });
    const pool = mailboxes.map((m) => h("input", {
      type: "checkbox", value: m.id, checked: Boolean(campaign && (campaign.mailbox_ids || []).includes(m.id)),
    }));
    const win = (campaign && campaign.window) || {};
    const windowStart = h("input", { type: "time", value: win.start || "" });
    const windowEnd = h("input", { type: "time", value: win.end || "" });
    const timezone = h("input", { type: "text", value: win.timezone || "UTC", autocomplete: "off" });
    const schedule = h("input", {
      type: "datetime-local",
      value: campaign && campaign.scheduled_at ? campaign.scheduled_at.slice(0, 16) : "",
    });

    function fields() {
      const chosen = pool.filter((box) => box.checked).map((box) => box.value);
      const body = {
        name: name.value.trim(),
        subject: subject.value,
        html: html.value,
        from_name: fromName.value.trim() || null,
        mailbox_ids: chosen.length ? chosen : null,
        window: windowStart.value && windowEnd.value
          ? { start: windowStart.value, end: windowEnd.value, timezone: timezone.value.trim() || "UTC" }
          : null,
        scheduled_at: schedule.value ? `${schedule.value}:00Z` : null,
      };
      return body;
    }

    const save = h("button", { type: "submit" }, campaign ? "Save draft" : "Create draft");
    const details = h("form", {
      class: "card",
      "aria-labelledby": "details-h",
      onsubmit: (event) => {
        event.preventDefault();
        busy(save, messages, async () => {
          if (!campaign) {
            const made = await ctx.api("POST", "/api/campaigns", fields());
            ctx.navigate(`#/campaigns/${encodeURIComponent(made.id)}/edit`);
            return;
          }
          campaign = await ctx.api("PATCH", base(), fields());
          notice(messages, "Saved.", "ok");
          await refreshPreview();
        });
      },
    },
    h("h2", { id: "details-h" }, "Details"),
    field("Name", name),
    field("Subject", subject, "Merge tags such as {{ first_name }} work here too."),
    field("From name", fromName),
    field("HTML", html, "The preview on the right shows it as a recipient will get it."),
    h("fieldset", {},
      h("legend", {}, "Mailbox pool"),
      mailboxes.length
        ? mailboxes.map((m, i) => h("label", { class: "check" }, pool[i], ` ${m.email} (${m.status})`))
        : h("p", { class: "muted" }, "No mailboxes yet: add one on the Mailboxes page."),
      h("small", { class: "hint" }, "None ticked: every active mailbox shares the sending.")),
    h("fieldset", {},
      h("legend", {}, "Sending window (optional)"),
      h("div", { class: "row" }, field("From", windowStart), field("Until", windowEnd), field("Time zone", timezone))),
    field("Schedule (UTC, optional)", schedule, "Leave empty to start when you press Start."),
    h("div", { class: "row" }, save));

    if (!campaign) {
      root.append(h("h1", {}, "New campaign"), messages, details);
      name.focus();
      return;
    }

    // --- preview ----------------------------------------------------------------------
    const previewEmail = h("input", { type: "email", placeholder: "a recipient's address (optional)" });
    const previewSubject = h("p", { class: "muted" });
    const frame = h("iframe", { title: "Preview of the message", class: "preview" });
    frame.setAttribute("sandbox", ""); // no scripts, no forms, no same-origin
    const previewStatus = h("p", { class: "hint", "aria-live": "polite" });
    let previewTimer = null;
    ctx.onLeave(() => clearTimeout(previewTimer));

    async function refreshPreview() {
      const email = previewEmail.value.trim();
      try {
        const shown = await ctx.api("POST", `${base()}/preview`, email ? { email } : {});
        previewSubject.replaceChildren(h("strong", {}, "Subject: "), shown.subject);
        frame.srcdoc = shown.html;
        previewStatus.textContent = `Preview updated${email ? ` for ${email}` : ""}.`;
      } catch (error) {
        previewStatus.textContent = `No preview: ${errorText(error)}`;
      }
    }

    function livePreview() {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(async () => {
        try {
          campaign = await ctx.api("PATCH", base(), { subject: subject.value, html: html.value });
          await refreshPreview();
        } catch (error) {
          previewStatus.textContent = `Not saved: ${errorText(error)}`;
        }
      }, PREVIEW_DELAY_MS);
    }
    html.addEventListener("input", livePreview);
    subject.addEventListener("input", livePreview);
    previewEmail.addEventListener("change", refreshPreview);

    const preview = h("section", { class: "card", "aria-labelledby": "preview-h" },
      h("h2", { id: "preview-h" }, "Preview"),
      field("Preview as", previewEmail), previewSubject, frame, previewStatus);

    // --- recipients -------------------------------------------------------------------
    const csv = h("input", { type: "file", accept: ".csv,text/csv" });
    const importResult = h("div", { "aria-live": "polite" });
    const uploadButton = h("button", { type: "button" }, "Upload CSV");
    uploadButton.addEventListener("click", () => {
      const file = csv.files && csv.files[0];
      if (!file) {
        notice(messages, "Choose a CSV file first.", "error");
        return;
      }
      busy(uploadButton, messages, async () => {
        const result = await ctx.upload(`${base()}/recipients`, file, "text/csv");
        const invalid = result.invalid || [];
        campaign = await ctx.api("GET", base());
        soFar.textContent = `Recipients so far: ${campaign.counts.total}.`;
        importResult.replaceChildren(h("div", {},
          h("dl", { class: "stats" },
            [["added", result.added], ["invalid", invalid.length], ["duplicates", result.duplicates], ["suppressed", result.suppressed]]
              .map(([label, value]) => h("div", { "data-count": label }, h("dt", {}, label), h("dd", {}, String(value))))),
          invalid.length
            ? table([
              { label: "Row", value: (r) => String(r.row) },
              { label: "Email", value: (r) => r.email || "" },
              { label: "Reason", value: (r) => r.reason },
            ], invalid.slice(0, 50), "Invalid rows")
            : null,
          result.job ? h("p", { class: "hint" }, "A large file: the rest is imported in the background.") : null,
        ));
      });
    });
    const soFar = h("p", { class: "hint" }, `Recipients so far: ${campaign.counts.total}.`);
    const recipients = h("section", { class: "card", "aria-labelledby": "recipients-h" },
      h("h2", { id: "recipients-h" }, "Recipients"),
      field("CSV file", csv, "A header row with an email column; other columns become merge tags."),
      uploadButton, importResult, soFar);

    // --- content check ----------------------------------------------------------------
    const findings = h("div", { "aria-live": "polite" });
    const checkButton = h("button", { type: "button", class: "secondary" }, "Check content");
    checkButton.addEventListener("click", () => busy(checkButton, messages, async () => {
      const result = await ctx.api("POST", `${base()}/check`);
      findings.replaceChildren(
        h("p", {}, result.ok ? "No errors found." : "Fix the errors before starting."),
        h("ul", { class: "findings" }, result.findings.map((f) =>
          h("li", { class: f.severity }, h("strong", {}, `${f.severity}: `), f.message))),
      );
    }));
    const check = h("section", { class: "card", "aria-labelledby": "check-h" },
      h("h2", { id: "check-h" }, "Content check"), checkButton, findings);

    // --- test send --------------------------------------------------------------------
    const testTo = h("input", { type: "email", multiple: true, value: ctx.user.email || "" });
    const testMailbox = h("select", {}, h("option", { value: "" }, "any of the pool"),
      mailboxes.map((m) => h("option", { value: m.id }, m.email)));
    const testButton = h("button", { type: "button", class: "secondary" }, "Send test");
    const testStatus = h("p", { class: "hint", "aria-live": "polite" });
    testButton.addEventListener("click", () => busy(testButton, messages, async () => {
      const to = testTo.value.split(",").map((s) => s.trim()).filter(Boolean);
      const body = { to };
      if (testMailbox.value) body.mailbox_id = testMailbox.value;
      await ctx.api("POST", `${base()}/test`, body);
      testStatus.textContent = `Test sent to ${to.join(", ")}.`;
    }));
    const test = h("section", { class: "card", "aria-labelledby": "test-h" },
      h("h2", { id: "test-h" }, "Send a test"),
      field("To (up to 5, comma separated)", testTo), field("Through mailbox", testMailbox),
      testButton, testStatus);

    // --- start ------------------------------------------------------------------------
    const startButton = h("button", { type: "button" }, campaign.status === "paused" ? "Resume" : "Start campaign");
    startButton.addEventListener("click", () => busy(startButton, messages, async () => {
      const action = campaign.status === "paused" ? "resume" : "start";
      await ctx.api("POST", `${base()}/${action}`, action === "start" ? {} : undefined);
      ctx.navigate(`#/campaigns/${encodeURIComponent(campaign.id)}`);
    }));

    root.append(
      h("p", {}, h("a", { href: `#/campaigns/${encodeURIComponent(campaign.id)}` }, "← Campaign overview")),
      h("h1", {}, `Edit: ${campaign.name}`), messages,
      h("div", { class: "editor" }, h("div", {}, details, recipients), h("div", {}, preview, check, test)),
      h("div", { class: "row card" }, startButton,
        h("span", { class: "hint" }, "Start runs the content check first and refuses on errors.")),
    );
    await refreshPreview();
  };
}

export default {
  route: "/campaigns/new",
  title: "New campaign",
  nav: false,
  roles: ["owner", "sender"],
  render: editor("new"),
};

export const edit = {
  route: "/campaigns/:id/edit",
  title: "Edit campaign",
  nav: false,
  roles: ["owner", "sender"],
  render: editor("edit"),
};
