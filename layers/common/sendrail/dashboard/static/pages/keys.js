// API keys (owner only): list, create (the secret is shown once), revoke.

export default {
  route: "/keys",
  title: "API keys",
  nav: true,
  roles: ["owner"],
  async render(root, ctx) {
    const { ui, api } = ctx;
    const notice = ui.h("div", { class: "page-notice", role: "status", "aria-live": "polite" });
    const secret = ui.h("div", { class: "secret-box", "aria-live": "polite" });
    const list = ui.h("div", { class: "list" });
    const name = ui.h("input", { type: "text", name: "key_name", required: true, maxLength: 200 });
    const role = ui.h(
      "select",
      { name: "key_role" },
      ui.h("option", { value: "sender" }, "sender"),
      ui.h("option", { value: "viewer" }, "viewer"),
      ui.h("option", { value: "owner" }, "owner"),
    );
    const form = ui.h(
      "form",
      {
        class: "inline-form",
        "aria-label": "Create an API key",
        onsubmit: async (ev) => {
          ev.preventDefault();
          try {
            const created = await api("POST", "/api/keys", { name: name.value.trim(), role: role.value });
            form.reset();
            const value = ui.h("input", { type: "text", readOnly: true, value: created.key, class: "secret", "aria-label": `New key ${created.name}` });
            secret.replaceChildren(
              ui.h("p", {}, ui.h("strong", {}, `Key “${created.name}” (${created.role}) created.`), " Copy it now: it is not shown again."),
              value,
              ui.h(
                "button",
                {
                  type: "button",
                  class: "secondary",
                  onclick: () => {
                    value.select();
                    navigator.clipboard?.writeText(created.key).catch(() => {});
                  },
                },
                "Copy",
              ),
              ui.h("button", { type: "button", class: "secondary", onclick: () => secret.replaceChildren() }, "Done"),
            );
            value.focus();
            value.select();
          } catch (err) {
            ui.notice(notice, err.message, "error");
          }
          await load();
        },
      },
      ui.field("Key name", name),
      ui.field("Role", role),
      ui.h("button", { type: "submit" }, "Create key"),
    );
    root.replaceChildren(ui.h("header", { class: "page-head" }, ui.h("h1", {}, "API keys")), notice, form, secret, list);

    async function load() {
      let result;
      try {
        result = await api("GET", "/api/keys?limit=500");
      } catch (err) {
        ui.notice(notice, err.message, "error");
        return;
      }
      list.replaceChildren(
        result.items.length
          ? ui.table(
              [
                { label: "Name", cell: (k) => k.name },
                { label: "Role", cell: (k) => k.role },
                { label: "Created", cell: (k) => ui.fmtTime(k.created_at) },
                {
                  label: "Actions",
                  cell: (k) =>
                    ui.h(
                      "button",
                      {
                        type: "button",
                        class: "danger",
                        "aria-label": `Revoke ${k.name}`,
                        onclick: async () => {
                          if (!window.confirm(`Revoke the key “${k.name}”? It stops working at once.`)) return;
                          try {
                            await api("DELETE", `/api/keys/${encodeURIComponent(k.id)}`);
                            ui.notice(notice, `Key “${k.name}” revoked`, "ok");
                          } catch (err) {
                            ui.notice(notice, err.message, "error");
                          }
                          await load();
                        },
                      },
                      "Revoke",
                    ),
                },
              ],
              result.items,
            )
          : ui.h("p", { class: "empty" }, "No API keys."),
      );
    }

    await load();
  },
};
