// Users (owner only): list with role, invite (the link is shown once), change role, remove.

const ROLES = [
  ["owner", "owner: everything, keys and users too"],
  ["sender", "sender: campaigns, mailboxes, settings"],
  ["viewer", "viewer: read only"],
];

// `long`: the roles explained (the invite form); the table's selects say just the role.
// defaultSelected, so that a form reset comes back to `current`, never to "owner".
function roleSelect(ui, attrs, current, long) {
  return ui.h(
    "select",
    attrs,
    ROLES.map(([value, label]) =>
      ui.h("option", { value, defaultSelected: value === current, selected: value === current }, long ? label : value),
    ),
  );
}

export default {
  route: "/users",
  title: "Users",
  nav: true,
  roles: ["owner"],
  async render(root, ctx) {
    const { ui, api } = ctx;
    const [box, say] = ui.status();
    const shownOnce = ui.h("div", { "aria-live": "polite" });
    const list = ui.h("section", { "aria-label": "Users" });
    const email = ui.h("input", { type: "email", name: "invite_email", required: true, autocomplete: "off" });
    const role = roleSelect(ui, { name: "invite_role" }, "sender", true);
    const submit = ui.h("button", { type: "submit" }, "Invite");
    const form = ui.h(
      "form",
      {
        class: "card",
        "aria-label": "Invite a user",
        onsubmit: async (event) => {
          event.preventDefault();
          await ui.busy(submit, box, async () => {
            const created = await api("POST", "/api/users", { email: email.value.trim(), role: role.value });
            form.reset();
            reveal(created);
            await load();
          });
        },
      },
      ui.h("h2", {}, "Invite a user"),
      ui.h("div", { class: "fields" }, ui.field("Email address", email), ui.field("Role", role)),
      submit,
    );
    root.append(ui.h("h1", {}, "Users"), box, form, shownOnce, list);

    function reveal(created) {
      if (!created.invite_url) {
        say(`${created.email} added as ${created.role}.`, "ok");
        return;
      }
      const until = created.invite_expires_at ? ` and works until ${ui.fmtTime(created.invite_expires_at)}` : "";
      ui.revealOnce(shownOnce, {
        region: "The invitation",
        label: "Invitation link",
        name: "invite_url",
        secret: created.invite_url,
        message: [
          ui.h("strong", {}, `${created.email} invited as ${created.role}.`),
          ` Send them this link: they set their password with it. It is not shown again${until}.`,
        ],
      });
    }

    function roleCell(u) {
      const select = roleSelect(ui, { name: "user_role", "aria-label": `Role of ${u.email}` }, u.role, false);
      select.addEventListener("change", () =>
        ui.busy(select, box, async () => {
          try {
            const changed = await api("PATCH", `/api/users/${encodeURIComponent(u.id)}`, { role: select.value });
            say(`${changed.email} is now ${changed.role}.`, "ok");
          } finally {
            await load();
          }
        }),
      );
      return select;
    }

    function removeButton(u) {
      const remove = ui.h("button", { type: "button", class: "danger", "aria-label": `Remove ${u.email}` }, "Remove");
      remove.addEventListener("click", () => {
        if (!window.confirm(`Remove ${u.email}? Their sessions stop working at once.`)) return;
        ui.busy(remove, box, async () => {
          await api("DELETE", `/api/users/${encodeURIComponent(u.id)}`);
          say(`${u.email} removed.`, "ok");
          await load();
        });
      });
      return remove;
    }

    const columns = [
      { label: "Email", value: (u) => u.email },
      { label: "Role", value: roleCell },
      { label: "Status", value: (u) => ui.badge(u.status) },
      { label: "Added", value: (u) => ui.fmtTime(u.created_at) },
      { label: "Actions", value: removeButton },
    ];

    async function load() {
      const page = await api("GET", "/api/users");
      list.replaceChildren(ui.table(columns, page.items, "Users of this account"));
    }

    await load();
  },
};
