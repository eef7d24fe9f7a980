// Replies: answers the inbox watcher read from the sending mailboxes (GET /api/replies),
// newest pages first as the API gives them. Every value is text.

export default {
  route: "/replies",
  title: "Replies",
  nav: true,
  roles: ["owner", "sender", "viewer"],
  async render(root, ctx) {
    const { ui, api } = ctx;
    const list = ui.h("section", { "aria-label": "Replies" });
    const more = ui.h("div", { class: "row" });
    root.append(
      ui.h("h1", {}, "Replies"),
      ui.h("p", { class: "hint" }, "Answers to your campaigns found in the mailboxes' inboxes; auto-replies are out-of-office and similar."),
      list,
      more,
    );

    const columns = [
      { label: "From", value: (r) => r.email },
      {
        label: "Subject",
        value: (r) => ui.h("div", {}, ui.h("div", {}, r.subject || "(no subject)"), r.snippet ? ui.h("div", { class: "hint" }, r.snippet) : null),
      },
      { label: "Classification", value: (r) => ui.badge(r.kind) },
      {
        label: "Campaign",
        value: (r) =>
          ui.h("a", { href: `#/campaigns/${encodeURIComponent(r.campaign_id)}`, "aria-label": `Campaign of the reply from ${r.email}` },
            names.get(r.campaign_id) || "Open campaign"),
      },
      { label: "Received", value: (r) => ui.fmtTime(r.received_at) },
    ];

    // Campaign names for the links, one GET per campaign not seen yet (a page names few).
    const names = new Map();
    async function nameCampaigns(items) {
      const unknown = [...new Set(items.map((r) => r.campaign_id))].filter((id) => !names.has(id));
      await Promise.all(unknown.map(async (id) => {
        try {
          names.set(id, (await api("GET", `/api/campaigns/${encodeURIComponent(id)}`)).name);
        } catch (error) {
          names.set(id, null); // deleted or unreadable: the link still opens it
        }
      }));
    }

    let number = 1;
    async function load(cursor) {
      const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = await api("GET", `/api/replies?limit=50${query}`);
      await nameCampaigns(page.items);
      list.replaceChildren(ui.table(columns, page.items, `Replies, page ${number}`));
      const controls = [];
      if (cursor) {
        controls.push(ui.button("First page", () => { number = 1; load(null); }, "secondary"));
      }
      controls.push(ui.pager(page.next_cursor, (next) => { number += 1; load(next); }));
      more.replaceChildren(...controls);
    }

    await load(null);
  },
};
