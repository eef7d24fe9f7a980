// API keys (owner only): list, create (the secret is shown once), revoke.

export default {
  route: "/keys",
  title: "API keys",
  nav: true,
  roles: ["owner"],
  async render(root, ctx) {
    const { ui, api } = ctx;
    const [box, say] = ui.status();
    const shownOnce = ui.h("div", { "aria-live": "polite" });
    const list = ui.h("section", { "aria-label": "API keys" });
    const name = ui.h("input", { type: "text", name: "key_name", required: true, maxLength: 200, autocomplete: "off" });
    const role = ui.h(
      "select",
      { name: "key_role" },
      ui.h("option", { value: "sender" }, "sender: campaigns, mailboxes, settings"),
      ui.h("option", { value: "viewer" }, "viewer: read only"),
      ui.h("option", { value: "owner" }, "owner: everything, keys and users too"),
    );
    const submit = ui.h("button", { type: "submit" }, "Create key");
    const form = ui.h(
      "form",
      {
        class: "card",
        "aria-label": "Create an API key",
        onsubmit: async (event) => {
          event.preventDefault();
          await ui.busy(submit, box, async () => {
            const created = await api("POST", "/api/keys", { name: name.value.trim(), role: role.value });
            form.reset();
            reveal(created);
            await load();
          });
        },
      },
      ui.h("h2", {}, "New key"),
      ui.h("div", { class: "fields" }, ui.field("Name", name), ui.field("Role", role)),
      submit,
    );
    root.append(ui.h("h1", {}, "API keys"), box, form, shownOnce, list);

    function reveal(created) {
      ui.revealOnce(shownOnce, {
        region: "The new key",
        label: "Key",
        name: "new_key",
        secret: created.key,
        message: [ui.h("strong", {}, `Key “${created.name}” (${created.role}) created.`), " Copy it now: it is not shown again."],
      });
    }

    const columns = [
      { label: "Name", value: (k) => k.name },
      { label: "Role", value: (k) => k.role },
      { label: "Created", value: (k) => ui.fmtTime(k.created_at) },
      {
        label: "Actions",
        value: (k) => {
          const revoke = ui.h("button", { type: "button", class: "danger", "aria-label": `Revoke ${k.name}` }, "Revoke");
          revoke.addEventListener("click", () => {
            if (!window.confirm(`Revoke the key “${k.name}”? It stops working at once.`)) return;
            ui.busy(revoke, box, async () => {
              await api("DELETE", `/api/keys/${encodeURIComponent(k.id)}`);
              say(`Key “${k.name}” revoked.`, "ok");
              await load();
            });
          });
          return revoke;
        },
      },
    ];

    async function load() {
      const page = await api("GET", "/api/keys?limit=500");
      list.replaceChildren(ui.table(columns, page.items, "Keys"));
    }

    await load();
  },
};
