// Suppressions: addresses never mailed again. List (paged), add, remove.

export default {
  route: "/suppressions",
  title: "Suppressions",
  nav: true,
  roles: ["owner", "sender", "viewer"],
  async render(root, ctx) {
    const { ui, api } = ctx;
    const canWrite = ctx.can("owner", "sender");
    const [box, say] = ui.status();
    const list = ui.h("section", { "aria-label": "Suppressed addresses" });
    const more = ui.h("div", { class: "row" });
    root.append(ui.h("h1", {}, "Suppressions"), box);

    if (canWrite) {
      const email = ui.h("input", { type: "email", name: "suppress_email", required: true, autocomplete: "off" });
      const submit = ui.h("button", { type: "submit" }, "Suppress");
      const form = ui.h(
        "form",
        {
          class: "card",
          "aria-label": "Suppress an address",
          onsubmit: async (event) => {
            event.preventDefault();
            await ui.busy(submit, box, async () => {
              const r = await api("POST", "/api/suppressions", { email: email.value.trim() });
              form.reset();
              say(`${r.email} suppressed${r.stopped ? `; ${r.stopped} unsent message(s) stopped` : ""}.`, "ok");
              await load();
            });
          },
        },
        ui.field("Email address to suppress", email, "No campaign or message will be sent to it."),
        submit,
      );
      root.append(form);
    }
    root.append(list, more);

    const columns = [
      { label: "Email", value: (s) => s.email },
      { label: "Reason", value: (s) => ui.badge(s.reason) },
      { label: "Since", value: (s) => ui.fmtTime(s.created_at) },
    ];
    if (canWrite) {
      columns.push({
        label: "Actions",
        value: (s) => {
          const remove = ui.h("button", { type: "button", class: "secondary", "aria-label": `Remove ${s.email}` }, "Remove");
          remove.addEventListener("click", () =>
            ui.busy(remove, box, async () => {
              await api("DELETE", `/api/suppressions/${encodeURIComponent(s.email)}`);
              say(`${s.email} can be mailed again.`, "ok");
              await load();
            }),
          );
          return remove;
        },
      });
    }

    let current = null; // the cursor of the page shown (null: the first)
    let number = 1;
    async function load(cursor = current) {
      const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = await api("GET", `/api/suppressions?limit=50${query}`);
      current = cursor;
      list.replaceChildren(ui.table(columns, page.items, `Page ${number}`));
      const controls = [];
      if (cursor) {
        controls.push(
          ui.button("First page", () => {
            number = 1;
            load(null);
          }, "secondary"),
        );
      }
      controls.push(
        ui.pager(page.next_cursor, (next) => {
          number += 1;
          load(next);
        }),
      );
      more.replaceChildren(...controls);
    }

    await load();
  },
};
