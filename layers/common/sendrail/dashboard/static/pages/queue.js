// Queue: the send window and the processor, the tenant's totals, each mailbox's capacity
// now, and "retry failed". Refreshes every 10 seconds while open.

function stats(ui, pairs) {
  return ui.h("dl", { class: "stats" }, pairs.map(([label, value]) => ui.h("div", {}, ui.h("dt", {}, label), ui.h("dd", {}, String(value ?? "—")))));
}

function windowText(w) {
  if (!w) return "any time";
  const days = w.days && w.days.length < 7 ? ` (${w.days.join(", ")})` : "";
  return `${w.start}–${w.end} ${w.timezone}${days}`;
}

export default {
  route: "/queue",
  title: "Queue",
  nav: true,
  roles: ["owner", "sender", "viewer"],
  async render(root, ctx) {
    const { ui, api } = ctx;
    const [box, say] = ui.status();
    const summary = ui.h("section", { class: "card", "aria-label": "Queue status" });
    const servers = ui.h("section", { class: "section", "aria-label": "Servers" });
    const priorities = ui.h("section", { class: "section", "aria-label": "By priority" });
    const head = ui.h("div", { class: "row spread" }, ui.h("h1", {}, "Queue"));
    if (ctx.can("owner", "sender")) {
      const retry = ui.h("button", { type: "button" }, "Retry failed");
      retry.addEventListener("click", () =>
        ui.busy(retry, box, async () => {
          const r = await api("POST", "/api/queue/retry-failed", {});
          say(`${r.requeued} failed recipient(s) queued again.`, "ok");
          await load();
        }),
      );
      const clear = ui.h("button", { type: "button", class: "secondary" }, "Clear failed");
      clear.addEventListener("click", () => {
        if (!window.confirm("Remove failed recipients from the queue views? Reports keep them.")) return;
        ui.busy(clear, box, async () => {
          const r = await api("POST", "/api/queue/clear", {});
          say(`${r.cleared} failed recipient(s) cleared from the queue.`, "ok");
          await load();
        });
      });
      head.append(ui.h("div", { class: "row" }, retry, clear));
    }
    root.append(head, box, summary, servers, priorities);

    async function load() {
      const [st, sv, totals] = await Promise.all([
        api("GET", "/api/queue/status"),
        api("GET", "/api/queue/servers"),
        api("GET", "/api/queue/stats"),
      ]);
      const state = !st.enabled ? ["paused", "sending off"] : st.in_window ? ["active", "sending"] : ["paused", "outside the window"];
      summary.replaceChildren(
        ui.h("h2", {}, "Status"),
        ui.h(
          "p",
          {},
          ui.h("span", { class: `badge status-${state[0]}` }, state[1]),
          ` Window: ${windowText(st.window)}.`,
          !st.in_window && st.next_window_open_at ? ` Opens ${ui.fmtTime(st.next_window_open_at)}.` : "",
          st.last_run_at ? ` Last run ${ui.fmtTime(st.last_run_at)}.` : " Not run yet.",
        ),
        stats(ui, [
          ["Queued", st.queued],
          ["Deferred", st.deferred],
          ["Sending", st.sending],
          ["Failed", st.failed],
        ]),
      );
      servers.replaceChildren(
        ui.h("h2", {}, "Servers"),
        ui.table(
          [
            { label: "Mailbox", value: (s) => ui.h("div", {}, ui.h("strong", {}, s.email), ui.h("div", { class: "hint" }, s.provider)) },
            { label: "Status", value: (s) => ui.badge(s.status) },
            {
              label: "Today",
              value: (s) => (s.daily_limit ? ui.bar(s.daily_used, s.daily_limit, `${s.email}: ${s.daily_used} of ${s.daily_limit} today`) : `${s.daily_used} (no cap)`),
            },
            { label: "This hour", class: "num", value: (s) => (s.hourly_used == null ? "—" : String(s.hourly_used)) },
            { label: "Next send", value: (s) => (s.next_available_at ? ui.fmtTime(s.next_available_at) : "—") },
          ],
          sv.items,
          "Capacity of each mailbox now",
        ),
      );
      const levels = Object.entries(totals.by_priority || {}).sort((a, b) => Number(b[0]) - Number(a[0]));
      const num = (label, key) => ({ label, class: "num", value: ([, row]) => String(row[key]) });
      priorities.replaceChildren(
        ui.h("h2", {}, "By priority"),
        ui.table(
          [
            { label: "Priority", value: ([level]) => level },
            num("Queued", "queued"),
            num("Deferred", "deferred"),
            num("Sending", "sending"),
            num("Sent", "sent"),
            num("Failed", "failed"),
          ],
          levels,
          `Totals: ${totals.total_sent} sent, ${totals.total_failed} failed`,
        ),
      );
    }

    await load();
    const timer = setInterval(() => load().catch(() => {}), 10000);
    ctx.onLeave(() => clearInterval(timer));
  },
};
