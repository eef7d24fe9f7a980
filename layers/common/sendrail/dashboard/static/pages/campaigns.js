// Campaigns: the list, with status and progress (refreshed while any is running).
const LIVE = new Set(["running", "scheduled"]);
const REFRESH_MS = 2000;
// The bar's total: every recipient but the suppressed ones (they are never sent to).

export default {
  route: "/campaigns",
  title: "Campaigns",
  nav: true,
  roles: ["owner", "sender", "viewer"],
  async render(root, ctx) {
    const { h, table, bar, badge, fmtTime, pager } = ctx.ui;
    const list = h("div", { "aria-live": "polite" });
    let cursor = null;
    let timer = null;
    let left = false;
    ctx.onLeave(() => { left = true; clearTimeout(timer); });

    const header = h("div", { class: "row spread" }, h("h1", {}, "Campaigns"),
      ctx.can("owner", "sender")
        ? h("a", { class: "button", href: "#/campaigns/new" }, "New campaign")
        : null);
    root.append(header, list);

    async function load() {
      clearTimeout(timer);
      try {
        await draw();
      } finally {
        if (live && !left) timer = setTimeout(() => load().catch(() => {}), REFRESH_MS);
      }
    }

    let live = false;

    async function draw() {
      const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
      const page = await ctx.api("GET", `/api/campaigns${query}`);
      const rows = page.items;
      list.replaceChildren(
        table([
          { label: "Name", value: (c) => h("a", { href: `#/campaigns/${encodeURIComponent(c.id)}` }, c.name) },
          { label: "Status", value: (c) => badge(c.status) },
          { label: "Progress", value: (c) => bar(c.counts.sent, c.counts.total - c.counts.suppressed, `${c.name}: sent of total`) },
          { label: "Created", value: (c) => fmtTime(c.created_at) },
          { label: "Started", value: (c) => fmtTime(c.started_at || c.scheduled_at) },
        ], rows, "Your campaigns, newest first"),
        h("div", { class: "row" },
          cursor ? h("button", { type: "button", class: "secondary", onclick: () => { cursor = null; load(); } }, "First page") : null,
          pager(page.next_cursor, (next) => { cursor = next; load(); })),
      );
      live = rows.some((c) => LIVE.has(c.status));
    }
    await load();
  },
};
