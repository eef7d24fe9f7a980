// Settings: the tenant's send window and caps, domain throttles, and the API rate limit.
// PUT replaces a whole document, so each form sends back what it read with its changes.
// A viewer sees the values, read-only, and no save buttons.

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

function numberOrNull(input) {
  const value = input.value.trim();
  return value === "" ? null : Number(value);
}

export default {
  route: "/settings",
  title: "Settings",
  nav: true,
  roles: ["owner", "sender", "viewer"],
  async render(root, ctx) {
    const { ui, api } = ctx;
    const canWrite = ctx.can("owner", "sender");
    const off = !canWrite;
    const [box, say] = ui.status();
    root.append(ui.h("h1", {}, "Settings"), box);
    let [sending, apiSettings] = await Promise.all([api("GET", "/api/settings/sending"), api("GET", "/api/settings/api")]);

    function sendForm(label, fields, submitLabel, onSubmit) {
      const submit = ui.h("button", { type: "submit" }, submitLabel);
      return ui.h(
        "form",
        {
          class: "card",
          "aria-label": label,
          onsubmit: async (event) => {
            event.preventDefault();
            await ui.busy(submit, box, onSubmit);
          },
        },
        ui.h("h2", {}, label),
        fields,
        canWrite ? submit : null,
      );
    }

    // --- the send window and the tenant's caps -------------------------------------------
    const w = sending.window;
    const enabled = ui.h("input", { type: "checkbox", name: "enabled", checked: sending.enabled, disabled: off });
    const useWindow = ui.h("input", { type: "checkbox", name: "use_window", checked: Boolean(w), disabled: off });
    const start = ui.h("input", { type: "time", name: "window_start", value: w ? w.start : "09:00", disabled: off });
    const end = ui.h("input", { type: "time", name: "window_end", value: w ? w.end : "17:00", disabled: off });
    const tz = ui.h("input", { type: "text", name: "window_timezone", value: w ? w.timezone : sending.timezone || "UTC", disabled: off, autocomplete: "off" });
    const dayBoxes = DAYS.map((d) =>
      ui.h("input", { type: "checkbox", name: `day_${d}`, checked: w ? w.days.includes(d) : !["sat", "sun"].includes(d), disabled: off }),
    );
    const days = ui.h(
      "fieldset",
      { class: "field days" },
      ui.h("legend", {}, "Days"),
      ui.h("div", { class: "row" }, DAYS.map((d, i) => ui.h("label", { class: "check" }, dayBoxes[i], d))),
    );
    const perHour = ui.h("input", { type: "number", name: "max_per_hour", min: 0, value: sending.max_per_hour ?? "", placeholder: "no cap", disabled: off });
    const perDay = ui.h("input", { type: "number", name: "max_per_day", min: 0, value: sending.max_per_day ?? "", placeholder: "no cap", disabled: off });
    const sendingForm = sendForm(
      "Sending window and caps",
      [
        ui.h("label", { class: "check" }, enabled, "Sending enabled"),
        ui.h("label", { class: "check" }, useWindow, "Only send inside a window"),
        ui.h("div", { class: "fields" }, ui.field("Opens", start), ui.field("Closes", end), ui.field("Time zone", tz, "IANA name, e.g. Europe/Paris")),
        days,
        ui.h("div", { class: "fields" }, ui.field("Tenant cap per hour", perHour), ui.field("Tenant cap per day", perDay)),
      ],
      "Save sending settings",
      async () => {
        const body = {
          ...sending,
          enabled: enabled.checked,
          max_per_hour: numberOrNull(perHour),
          max_per_day: numberOrNull(perDay),
          window: useWindow.checked
            ? { start: start.value, end: end.value, timezone: tz.value.trim() || "UTC", days: DAYS.filter((_, i) => dayBoxes[i].checked) }
            : null,
        };
        sending = await api("PUT", "/api/settings/sending", body);
        say("Sending settings saved.", "ok");
      },
    );

    // --- batches, retries and the footer ---------------------------------------------------
    const batch = ui.h("input", { type: "number", name: "batch_size", min: 1, max: 1000, value: sending.batch_size, disabled: off });
    const delay = ui.h("input", { type: "number", name: "batch_delay_seconds", min: 0, max: 3600, value: sending.batch_delay_seconds, disabled: off });
    const attempts = ui.h("input", { type: "number", name: "max_attempts", min: 1, max: 20, value: sending.max_attempts, disabled: off });
    const footer = ui.h("input", { type: "checkbox", name: "unsubscribe_footer", checked: sending.unsubscribe_footer, disabled: off });
    const postal = ui.h("textarea", { name: "postal_address", class: "short", rows: 3, value: sending.postal_address || "", disabled: off });
    const deliveryForm = sendForm(
      "Delivery",
      [
        ui.h("div", { class: "fields" }, ui.field("Batch size", batch), ui.field("Batch delay (s)", delay, "Seconds between batches"), ui.field("Attempts per message", attempts)),
        ui.h("label", { class: "check" }, footer, "Add an unsubscribe footer when a campaign has no link"),
        ui.field("Postal address (shown in the footer)", postal),
      ],
      "Save delivery settings",
      async () => {
        const body = {
          ...sending,
          batch_size: Number(batch.value),
          batch_delay_seconds: Number(delay.value),
          max_attempts: Number(attempts.value),
          unsubscribe_footer: footer.checked,
          postal_address: postal.value.trim() || null,
        };
        sending = await api("PUT", "/api/settings/sending", body);
        say("Delivery settings saved.", "ok");
      },
    );

    // --- the API rate limit --------------------------------------------------------------
    const rate = ui.h("input", { type: "number", name: "api_rate_limit", min: 1, max: 10000, value: apiSettings.api_rate_limit ?? "", placeholder: "platform default", disabled: off });
    const inForce = ui.h("p", { class: "hint" });
    const showInForce = () => {
      const n = apiSettings.effective_api_rate_limit;
      inForce.textContent = n ? `In force: ${n} requests per second per key or session.` : "In force: unlimited.";
    };
    showInForce();
    const apiForm = sendForm(
      "API rate limit",
      [ui.field("Requests per second per key or session", rate, "Empty: the platform default."), inForce],
      "Save API limit",
      async () => {
        apiSettings = await api("PUT", "/api/settings/api", { api_rate_limit: numberOrNull(rate) });
        showInForce();
        say("API rate limit saved.", "ok");
      },
    );

    // --- domain throttles -----------------------------------------------------------------
    const throttles = ui.h("div", {});
    const columns = [
      { label: "Name", value: (t) => t.name },
      { label: "Applies to", value: (t) => (t.scope === "sender" ? "mail from" : "mail to") },
      { label: "Domains", value: (t) => t.domains.join(", ") },
      { label: "Per minute", class: "num", value: (t) => String(t.max_per_minute ?? "—") },
      { label: "Per hour", class: "num", value: (t) => String(t.max_per_hour ?? "—") },
      { label: "Per day", class: "num", value: (t) => String(t.max_per_day ?? "—") },
    ];
    if (canWrite) {
      columns.push({
        label: "Actions",
        value: (t) => {
          const remove = ui.h("button", { type: "button", class: "secondary", "aria-label": `Remove the throttle ${t.name}` }, "Remove");
          remove.addEventListener("click", () =>
            ui.busy(remove, box, async () => {
              await api("DELETE", `/api/domain-throttles/${encodeURIComponent(t.name)}`);
              say(`Throttle ${t.name} removed.`, "ok");
              await loadThrottles();
            }),
          );
          return remove;
        },
      });
    }
    async function loadThrottles() {
      const page = await api("GET", "/api/domain-throttles?limit=500");
      throttles.replaceChildren(ui.table(columns, page.items, "Throttles in force"));
    }
    const throttleSection = ui.h("section", { class: "card", "aria-label": "Domain throttles" }, ui.h("h2", {}, "Domain throttles"), throttles);
    if (canWrite) {
      const name = ui.h("input", { type: "text", name: "throttle_name", required: true, placeholder: "gmail.com", autocomplete: "off" });
      const scope = ui.h("select", { name: "throttle_scope" }, ui.h("option", { value: "recipient" }, "mail to this domain"), ui.h("option", { value: "sender" }, "mail from this domain"));
      const domains = ui.h("input", { type: "text", name: "throttle_domains", placeholder: "gmail.com, googlemail.com" });
      const minute = ui.h("input", { type: "number", name: "throttle_per_minute", min: 0 });
      const hour = ui.h("input", { type: "number", name: "throttle_per_hour", min: 0 });
      const day = ui.h("input", { type: "number", name: "throttle_per_day", min: 0 });
      const submit = ui.h("button", { type: "submit" }, "Save throttle");
      const form = ui.h(
        "form",
        {
          "aria-label": "Add or change a domain throttle",
          onsubmit: async (event) => {
            event.preventDefault();
            await ui.busy(submit, box, async () => {
              const body = { scope: scope.value, max_per_minute: numberOrNull(minute), max_per_hour: numberOrNull(hour), max_per_day: numberOrNull(day) };
              const list = domains.value.split(",").map((d) => d.trim()).filter(Boolean);
              if (list.length) body.domains = list;
              await api("PUT", `/api/domain-throttles/${encodeURIComponent(name.value.trim().toLowerCase())}`, body);
              form.reset();
              say("Throttle saved.", "ok");
              await loadThrottles();
            });
          },
        },
        ui.h("h3", {}, "Add or change a throttle"),
        ui.h(
          "div",
          { class: "fields" },
          ui.field("Domain or group name", name),
          ui.field("Applies to", scope),
          ui.field("Group's domains", domains, "Only for a group name, comma separated"),
        ),
        ui.h("div", { class: "fields" }, ui.field("Per minute", minute), ui.field("Per hour", hour), ui.field("Per day", day)),
        submit,
      );
      throttleSection.append(form);
    }

    root.append(ui.h("div", { class: "grid two aligned" }, sendingForm, deliveryForm, apiForm), throttleSection);
    await loadThrottles();
  },
};
