// Suppressions: addresses never mailed again. List (paged), add, remove.

export default {
  route: "/suppressions",
  title: "Suppressions",
  nav: true,
  roles: ["owner", "sender", "viewer"],
  async render(root, ctx) {
    const { ui, api } = ctx;
    const canWrite = ctx.can("owner", "sender");
    const notice = ui.h("div", { class: "page-notice", role: "status", "aria-live": "polite" });
    const list = ui.h("div", { class: "list" });
    const more = ui.h("div", { class: "pager" });
    root.replaceChildren(ui.h("header", { class: "page-head" }, ui.h("h1", {}, "Suppressions")), notice);

    if (canWrite) {
      const email = ui.h("input", { type: "email", name: "email", required: true, autocomplete: "off" });
      const form = ui.h(
        "form",
        {
          class: "inline-form",
          "aria-label": "Suppress an address",
          onsubmit: async (ev) => {
            ev.preventDefault();
            try {
              const r = await api("POST", "/api/suppressions", { email: email.value.trim() });
              form.reset();
              ui.notice(notice, `${r.email} suppressed${r.stopped ? `; ${r.stopped} unsent message(s) stopped` : ""}`, "ok");
            } catch (err) {
              ui.notice(notice, err.message, "error");
            }
            await load();
          },
        },
        ui.field("Email address to suppress", email),
        ui.h("button", { type: "submit" }, "Suppress"),
      );
      root.append(form);
    }
    root.append(list, more);

    function columns() {
      const cols = [
        { label: "Email", cell: (s) => s.email },
        { label: "Reason", cell: (s) => s.reason },
        { label: "Since", cell: (s) => ui.fmtTime(s.created_at) },
      ];
      if (canWrite) {
        cols.push({
          label: "Actions",
          cell: (s) =>
            ui.h(
              "button",
              {
                type: "button",
                class: "secondary",
                "aria-label": `Remove ${s.email}`,
                onclick: async () => {
                  try {
                    await api("DELETE", `/api/suppressions/${encodeURIComponent(s.email)}`);
                    ui.notice(notice, `${s.email} can be mailed again`, "ok");
                  } catch (err) {
                    ui.notice(notice, err.message, "error");
                  }
                  await load();
                },
              },
              "Remove",
            ),
        });
      }
      return cols;
    }

    let shown = [];

    async function load(cursor) {
      let result;
      try {
        const q = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
        result = await api("GET", `/api/suppressions?limit=50${q}`);
      } catch (err) {
        ui.notice(notice, err.message, "error");
        return;
      }
      shown = cursor ? shown.concat(result.items) : result.items;
      list.replaceChildren(
        shown.length ? ui.table(columns(), shown) : ui.h("p", { class: "empty" }, "No suppressed addresses."),
      );
      more.replaceChildren(ui.pager(result.next_cursor, () => load(result.next_cursor)));
    }

    await load();
  },
};
