// Settings: the tenant's send window and caps, domain throttles, and the API rate limit.
// PUT replaces a whole document, so each form sends back what it read with its changes.

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

function numberOrNull(input) {
  const v = input.value.trim();
  return v === "" ? null : Number(v);
}

export default {
  route: "/settings",
  title: "Settings",
  nav: true,
  roles: ["owner", "sender", "viewer"],
  async render(root, ctx) {
    const { ui, api } = ctx;
    const canWrite = ctx.can("owner", "sender");
    const notice = ui.h("div", { class: "page-notice", role: "status", "aria-live": "polite" });
    root.replaceChildren(ui.h("header", { class: "page-head" }, ui.h("h1", {}, "Settings")), notice);

    let sending;
    let apiSettings;
    try {
      [sending, apiSettings] = await Promise.all([api("GET", "/api/settings/sending"), api("GET", "/api/settings/api")]);
    } catch (err) {
      ui.notice(notice, err.message || "could not load the settings", "error");
      return;
    }

    // --- sending window and tenant caps -------------------------------------------------
    const w = sending.window;
    const useWindow = ui.h("input", { type: "checkbox", name: "use_window", checked: !!w, disabled: !canWrite });
    const start = ui.h("input", { type: "time", name: "window_start", value: w ? w.start : "09:00", disabled: !canWrite });
    const end = ui.h("input", { type: "time", name: "window_end", value: w ? w.end : "17:00", disabled: !canWrite });
    const tz = ui.h("input", { type: "text", name: "window_timezone", value: w ? w.timezone : sending.timezone || "UTC", disabled: !canWrite, autocomplete: "off" });
    const dayBoxes = DAYS.map((d) =>
      ui.h("input", { type: "checkbox", name: `day_${d}`, id: `day_${d}`, checked: w ? w.days.includes(d) : !["sat", "sun"].includes(d), disabled: !canWrite }),
    );
    const days = ui.h(
      "fieldset",
      { class: "days" },
      ui.h("legend", {}, "Days"),
      ...DAYS.map((d, i) => ui.h("label", { class: "check", for: `day_${d}` }, dayBoxes[i], ` ${d}`)),
    );
    const enabled = ui.h("input", { type: "checkbox", name: "enabled", checked: sending.enabled, disabled: !canWrite });
    const perHour = ui.h("input", { type: "number", name: "max_per_hour", min: 0, value: sending.max_per_hour ?? "", placeholder: "no cap", disabled: !canWrite });
    const perDay = ui.h("input", { type: "number", name: "max_per_day", min: 0, value: sending.max_per_day ?? "", placeholder: "no cap", disabled: !canWrite });
    const sendingForm = ui.h(
      "form",
      {
        class: "card form-grid",
        "aria-label": "Sending window and caps",
        onsubmit: async (ev) => {
          ev.preventDefault();
          const body = {
            ...sending,
            enabled: enabled.checked,
            max_per_hour: numberOrNull(perHour),
            max_per_day: numberOrNull(perDay),
            window: useWindow.checked
              ? { start: start.value, end: end.value, timezone: tz.value.trim() || "UTC", days: DAYS.filter((_, i) => dayBoxes[i].checked) }
              : null,
          };
          try {
            sending = await api("PUT", "/api/settings/sending", body);
            ui.notice(notice, "Sending settings saved", "ok");
          } catch (err) {
            ui.notice(notice, err.message, "error");
          }
        },
      },
      ui.h("h2", {}, "Sending"),
      ui.field("Sending enabled", enabled),
      ui.field("Only send inside a window", useWindow),
      ui.field("Window opens", start),
      ui.field("Window closes", end),
      ui.field("Time zone (IANA, e.g. Europe/Paris)", tz),
      days,
      ui.field("Tenant cap per hour", perHour),
      ui.field("Tenant cap per day", perDay),
      canWrite ? ui.h("div", { class: "actions" }, ui.h("button", { type: "submit" }, "Save sending settings")) : "",
    );

    // --- API rate limit -------------------------------------------------------------------
    const rate = ui.h("input", { type: "number", name: "api_rate_limit", min: 1, max: 10000, value: apiSettings.api_rate_limit ?? "", placeholder: "platform default", disabled: !canWrite });
    const effective = ui.h("p", { class: "muted" });
    const showEffective = () => {
      effective.textContent = apiSettings.effective_api_rate_limit ? `In force: ${apiSettings.effective_api_rate_limit} requests per second per key or session.` : "In force: unlimited.";
    };
    showEffective();
    const apiForm = ui.h(
      "form",
      {
        class: "card form-grid",
        "aria-label": "API rate limit",
        onsubmit: async (ev) => {
          ev.preventDefault();
          try {
            apiSettings = await api("PUT", "/api/settings/api", { api_rate_limit: numberOrNull(rate) });
            showEffective();
            ui.notice(notice, "API rate limit saved", "ok");
          } catch (err) {
            ui.notice(notice, err.message, "error");
          }
        },
      },
      ui.h("h2", {}, "API"),
      ui.field("Requests per second per key (empty: default)", rate),
      effective,
      canWrite ? ui.h("div", { class: "actions" }, ui.h("button", { type: "submit" }, "Save API limit")) : "",
    );

    // --- domain throttles -----------------------------------------------------------------
    const throttles = ui.h("div", { class: "list" });
    async function loadThrottles() {
      let items = [];
      try {
        items = (await api("GET", "/api/domain-throttles?limit=500")).items;
      } catch (err) {
        ui.notice(notice, err.message, "error");
        return;
      }
      const cols = [
        { label: "Name", cell: (t) => t.name },
        { label: "Scope", cell: (t) => t.scope },
        { label: "Domains", cell: (t) => t.domains.join(", ") },
        { label: "Per minute", cell: (t) => String(t.max_per_minute ?? "—") },
        { label: "Per hour", cell: (t) => String(t.max_per_hour ?? "—") },
        { label: "Per day", cell: (t) => String(t.max_per_day ?? "—") },
      ];
      if (canWrite) {
        cols.push({
          label: "Actions",
          cell: (t) =>
            ui.h(
              "button",
              {
                type: "button",
                class: "secondary",
                "aria-label": `Remove the throttle ${t.name}`,
                onclick: async () => {
                  try {
                    await api("DELETE", `/api/domain-throttles/${encodeURIComponent(t.name)}`);
                    ui.notice(notice, `Throttle ${t.name} removed`, "ok");
                  } catch (err) {
                    ui.notice(notice, err.message, "error");
                  }
                  await loadThrottles();
                },
              },
              "Remove",
            ),
        });
      }
      throttles.replaceChildren(items.length ? ui.table(cols, items) : ui.h("p", { class: "empty" }, "No domain throttles."));
    }
    const throttleSection = ui.h("section", { class: "card", "aria-label": "Domain throttles" }, ui.h("h2", {}, "Domain throttles"), throttles);
    if (canWrite) {
      const tName = ui.h("input", { type: "text", name: "throttle_name", required: true, placeholder: "gmail.com" });
      const tScope = ui.h("select", { name: "throttle_scope" }, ui.h("option", { value: "recipient" }, "mail to this domain"), ui.h("option", { value: "sender" }, "mail from this domain"));
      const tDomains = ui.h("input", { type: "text", name: "throttle_domains", placeholder: "for a group: gmail.com, googlemail.com" });
      const tHour = ui.h("input", { type: "number", name: "throttle_per_hour", min: 0 });
      const tDay = ui.h("input", { type: "number", name: "throttle_per_day", min: 0 });
      const tMinute = ui.h("input", { type: "number", name: "throttle_per_minute", min: 0 });
      const tForm = ui.h(
        "form",
        {
          class: "form-grid",
          "aria-label": "Add or change a domain throttle",
          onsubmit: async (ev) => {
            ev.preventDefault();
            const body = { scope: tScope.value, max_per_hour: numberOrNull(tHour), max_per_day: numberOrNull(tDay), max_per_minute: numberOrNull(tMinute) };
            const domains = tDomains.value.split(",").map((d) => d.trim()).filter(Boolean);
            if (domains.length) body.domains = domains;
            try {
              await api("PUT", `/api/domain-throttles/${encodeURIComponent(tName.value.trim().toLowerCase())}`, body);
              tForm.reset();
              ui.notice(notice, "Throttle saved", "ok");
            } catch (err) {
              ui.notice(notice, err.message, "error");
            }
            await loadThrottles();
          },
        },
        ui.field("Domain or group name", tName),
        ui.field("Applies to", tScope),
        ui.field("Group's domains (comma separated)", tDomains),
        ui.field("Per minute", tMinute),
        ui.field("Per hour", tHour),
        ui.field("Per day", tDay),
        ui.h("div", { class: "actions" }, ui.h("button", { type: "submit" }, "Save throttle")),
      );
      throttleSection.append(ui.h("h3", {}, "Add or change"), tForm);
    }

    root.append(ui.h("div", { class: "cards" }, sendingForm, apiForm), throttleSection);
    await loadThrottles();
  },
};
