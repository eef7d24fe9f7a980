// Queue: the send window and processor state, totals, each mailbox's capacity now, and
// "retry failed". Refreshes every 10 seconds while open.

function stat(ui, label, value) {
  return ui.h("div", { class: "stat" }, ui.h("div", { class: "stat-value" }, String(value ?? "—")), ui.h("div", { class: "stat-label" }, label));
}

export default {
  route: "/queue",
  title: "Queue",
  nav: true,
  roles: ["owner", "sender", "viewer"],
  async render(root, ctx) {
    const { ui, api } = ctx;
    const notice = ui.h("div", { class: "page-notice", role: "status", "aria-live": "polite" });
    const summary = ui.h("section", { "aria-label": "Queue status" });
    const servers = ui.h("section", { "aria-label": "Servers" });
    const head = ui.h("header", { class: "page-head" }, ui.h("h1", {}, "Queue"));
    if (ctx.can("owner", "sender")) {
      head.append(
        ui.h(
          "button",
          {
            type: "button",
            onclick: async () => {
              try {
                const r = await api("POST", "/api/queue/retry-failed", {});
                ui.notice(notice, `${r.requeued} failed recipient(s) queued again`, "ok");
              } catch (err) {
                ui.notice(notice, err.message, "error");
              }
              await load();
            },
          },
          "Retry failed",
        ),
      );
    }
    root.replaceChildren(head, notice, summary, servers);

    async function load() {
      let st;
      let sv;
      try {
        [st, sv] = await Promise.all([api("GET", "/api/queue/status"), api("GET", "/api/queue/servers")]);
      } catch (err) {
        ui.notice(notice, err.message || "could not load the queue", "error");
        return;
      }
      const w = st.window;
      const windowText = w ? `${w.start}–${w.end} ${w.timezone}${w.days && w.days.length < 7 ? ` (${w.days.join(", ")})` : ""}` : "any time";
      summary.replaceChildren(
        ui.h(
          "p",
          { class: "queue-state" },
          ui.h("span", { class: `status status-${st.enabled ? (st.in_window ? "active" : "paused") : "paused"}` }, !st.enabled ? "sending off" : st.in_window ? "sending" : "outside the window"),
          ` Window: ${windowText}.`,
          st.next_window_open_at && !st.in_window ? ` Opens ${ui.fmtTime(st.next_window_open_at)}.` : "",
          st.last_run_at ? ` Last run ${ui.fmtTime(st.last_run_at)}.` : " Not run yet.",
        ),
        ui.h("div", { class: "stats" }, stat(ui, "queued", st.queued), stat(ui, "deferred", st.deferred), stat(ui, "sending", st.sending), stat(ui, "failed", st.failed)),
      );
      const items = sv.items || [];
      servers.replaceChildren(
        ui.h("h2", {}, "Servers"),
        items.length
          ? ui.table(
              [
                { label: "Mailbox", cell: (s) => ui.h("span", {}, ui.h("strong", {}, s.email), ui.h("br"), ui.h("span", { class: "muted" }, s.provider)) },
                { label: "Status", cell: (s) => ui.h("span", { class: `status status-${s.status}` }, s.status.replace("_", " ")) },
                { label: "Today", cell: (s) => (s.daily_limit ? ui.bar(s.daily_used, s.daily_limit, `${s.daily_used} of ${s.daily_limit}`) : `${s.daily_used} (no cap)`) },
                { label: "This hour", cell: (s) => (s.hourly_used == null ? "—" : String(s.hourly_used)) },
                { label: "Next send", cell: (s) => (s.next_available_at ? ui.fmtTime(s.next_available_at) : "—") },
              ],
              items,
            )
          : ui.h("p", { class: "empty" }, "No mailboxes."),
      );
    }

    await load();
    const timer = setInterval(load, 10000);
    ctx.onLeave(() => clearInterval(timer));
  },
};
