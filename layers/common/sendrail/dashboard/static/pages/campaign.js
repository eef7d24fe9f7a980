// One campaign: stats, timeline chart, estimate, recipients, and its controls.
import { lineChart } from "../chart.js";

const STATUSES = ["", "queued", "sending", "sent", "failed", "bounced", "suppressed", "cancelled"];
const STAT_NAMES = ["total", "queued", "sent", "failed", "bounced", "suppressed", "cancelled",
  "unique_opens", "unique_clicks", "replied", "unsubscribed", "complained"];
const SERIES = [["sent", "Sends"], ["opened", "Opens"], ["clicked", "Clicks"], ["bounced", "Bounces"], ["replied", "Replies"]];
const LIVE = ["running", "scheduled"];
const REFRESH_MS = 2000;

function hourOf(iso) {
  return new Date(iso).toISOString().slice(0, 13);
}

export default {
  route: "/campaigns/:id",
  title: "Campaign",
  nav: false,
  roles: ["owner", "sender", "viewer"],
  async render(root, ctx) {
    const { h, table, bar, badge, fmtTime, pager, notice, busy, errorText } = ctx.ui;
    const id = ctx.params.id;
    const base = `/api/campaigns/${encodeURIComponent(id)}`;
    const title = h("h1", {});
    const controls = h("div", { class: "row", role: "group", "aria-label": "Campaign controls" });
    const progress = h("div", { "aria-live": "polite" });
    const stats = h("dl", { class: "stats" });
    const chart = h("div", { class: "chart" });
    const estimate = h("div", {});
    const recipients = h("div", {});
    const messages = h("div", {});
    let timer = null;
    let live = false;
    let left = false;
    let filter = "";
    let cursor = null;
    ctx.onLeave(() => { left = true; clearTimeout(timer); });

    const filterSelect = h("select", {
      onchange: () => { filter = filterSelect.value; cursor = null; loadRecipients().catch(showError); },
    }, STATUSES.map((s) => h("option", { value: s }, s || "all")));

    root.append(
      h("p", {}, h("a", { href: "#/campaigns" }, "← All campaigns")),
      title, messages, controls,
      h("section", { class: "card", "aria-labelledby": "progress-h" }, h("h2", { id: "progress-h" }, "Progress"), progress, stats),
      h("section", { class: "card", "aria-labelledby": "timeline-h" }, h("h2", { id: "timeline-h" }, "Timeline (per hour)"), chart),
      h("section", { class: "card", "aria-labelledby": "estimate-h" }, h("h2", { id: "estimate-h" }, "Estimate to completion"), estimate),
      h("section", { class: "card", "aria-labelledby": "recipients-h" },
        h("div", { class: "row spread" }, h("h2", { id: "recipients-h" }, "Recipients"),
          ctx.ui.field("Status", filterSelect)),
        recipients),
    );

    function showError(error) {
      notice(messages, errorText(error), "error");
    }

    function act(label, path, kind, confirmText) {
      const node = h("button", { type: "button", class: kind || "" }, label);
      node.addEventListener("click", () => {
        if (confirmText && !window.confirm(confirmText)) return;
        busy(node, messages, async () => {
          await ctx.api("POST", `${base}/${path}`, path === "start" ? {} : undefined);
          notice(messages, `${label}: done.`, "ok");
          await load();
        });
      });
      return node;
    }

    function drawControls(campaign) {
      const write = ctx.can("owner", "sender");
      const s = campaign.status;
      const buttons = [];
      if (write && (s === "draft" || s === "paused")) {
        buttons.push(h("a", { class: "button secondary", href: `#/campaigns/${encodeURIComponent(id)}/edit` }, "Edit"));
      }
      if (write && s === "draft") buttons.push(act("Start", "start"));
      if (write && s === "running") buttons.push(act("Pause", "pause", "secondary"));
      if (write && s === "paused") buttons.push(act("Resume", "resume"));
      if (write && ["running", "paused", "scheduled"].includes(s)) {
        buttons.push(act("Cancel", "cancel", "danger", "Cancel this campaign? Unsent mail will not go out."));
      }
      buttons.push(h("button", {
        type: "button", class: "secondary",
        onclick: () => ctx.download(`${base}/report?format=csv`, `campaign-${id}.csv`).catch(showError),
      }, "Download report (CSV)"));
      controls.replaceChildren(...buttons);
    }

    function drawStats(campaign, numbers) {
      title.replaceChildren(campaign.name, " ", badge(campaign.status));
      // The bar's total: every recipient but the suppressed ones (never sent to).
      progress.replaceChildren(bar(numbers.sent, numbers.total - numbers.suppressed, "Sent of total"));
      stats.replaceChildren(...STAT_NAMES.map((name) =>
        h("div", {}, h("dt", {}, name.replace("_", " ")), h("dd", {}, String(numbers[name] ?? 0)))));
    }

    function drawChart(timeline, replies) {
      const byHour = new Map(timeline.items.map((row) => [hourOf(row.start), { ...row, replied: 0 }]));
      for (const reply of replies) {
        const hour = hourOf(reply.received_at);
        const row = byHour.get(hour) || { start: `${hour}:00:00Z`, sent: 0, opened: 0, clicked: 0, bounced: 0, replied: 0 };
        row.replied += 1;
        byHour.set(hour, row);
      }
      const rows = [...byHour.values()].sort((a, b) => (a.start < b.start ? -1 : 1));
      if (!rows.length) {
        chart.replaceChildren(h("p", { class: "muted" }, "Nothing sent yet."));
        return;
      }
      const labels = rows.map((row) => `${new Date(row.start).toISOString().slice(5, 13).replace("T", " ")}h`);
      const series = SERIES.map(([key, name]) => ({ key, name, values: rows.map((row) => row[key] || 0) }));
      const total = (key) => series.find((s) => s.key === key).values.reduce((a, b) => a + b, 0);
      chart.replaceChildren(
        lineChart(labels, series, "Sends, opens, clicks, bounces and replies per hour"),
        h("ul", { class: "legend" }, SERIES.map(([key, name]) =>
          h("li", {}, h("span", { class: `swatch-${key}` }), `${name}: ${total(key)}`))),
      );
    }

    function drawEstimate(value) {
      if (!value || !value.remaining) {
        estimate.replaceChildren(h("p", {}, "Nothing left to send."));
        return;
      }
      const when = value.completes_at ? fmtTime(value.completes_at) : "when capacity allows";
      estimate.replaceChildren(
        h("p", {}, `${value.remaining} left to send; completes ${when}.`),
        table([
          { label: "Day", value: (d) => d.date },
          { label: "Sends", value: (d) => String(d.count), class: "num" },
        ], value.per_day.slice(0, 14), "Sends per day"),
      );
    }

    let asked = 0;

    async function loadRecipients() {
      asked += 1;
      const mine = asked; // a newer request (another filter or page) wins over this one
      const query = new URLSearchParams({ limit: "25" });
      if (filter) query.set("status", filter);
      if (cursor) query.set("cursor", cursor);
      const page = await ctx.api("GET", `${base}/recipients?${query}`);
      if (mine !== asked) return;
      const first = () => { cursor = null; loadRecipients().catch(showError); };
      recipients.replaceChildren(
        table([
          { label: "Email", value: (r) => r.email },
          { label: "Status", value: (r) => badge(r.status) },
          { label: "Attempts", value: (r) => String(r.attempts), class: "num" },
          { label: "Sent", value: (r) => fmtTime(r.sent_at) },
          { label: "Opened", value: (r) => fmtTime(r.opened_at) },
          { label: "Clicked", value: (r) => fmtTime(r.clicked_at) },
          { label: "Last error", value: (r) => r.last_error || "" },
        ], page.items),
        h("div", { class: "row" },
          cursor ? h("button", { type: "button", class: "secondary", onclick: first }, "First page") : null,
          pager(page.next_cursor, (next) => { cursor = next; loadRecipients().catch(showError); })),
      );
    }

    async function load() {
      clearTimeout(timer);
      try {
        const [campaign, numbers, timeline, replies, value] = await Promise.all([
          ctx.api("GET", base),
          ctx.api("GET", `${base}/stats`),
          ctx.api("GET", `${base}/timeline?bucket=hour`),
          ctx.api("GET", `/api/replies?campaign_id=${encodeURIComponent(id)}&limit=500`).catch(() => ({ items: [] })),
          ctx.api("GET", `${base}/estimate`).catch(() => null),
        ]);
        live = LIVE.includes(campaign.status);
        document.title = `${campaign.name} · sendrail`;
        drawStats(campaign, numbers);
        drawControls(campaign);
        drawChart(timeline, replies.items);
        drawEstimate(value);
        await loadRecipients();
      } finally {
        // While it runs, keep following it (a slow or failed refresh does not stop that).
        if (live && !left) timer = setTimeout(() => load().catch(showError), REFRESH_MS);
      }
    }
    await load();
  },
};
