// Sign in with email and password (a session) or with an API key.
export default {
  route: "/login",
  title: "Sign in",
  nav: false,
  roles: ["owner", "sender", "viewer"],
  async render(root, ctx) {
    const { h, field, errorText } = ctx.ui;
    const status = h("div", { "aria-live": "polite" });

    async function signIn(event, body) {
      event.preventDefault();
      const submit = event.target.querySelector("button[type=submit]");
      submit.disabled = true;
      status.replaceChildren();
      try {
        const me = await ctx.api("POST", "/api/auth/session", body);
        ctx.signedIn(me);
        ctx.navigate("#/campaigns");
      } catch (error) {
        status.replaceChildren(h("p", { class: "notice error", role: "alert" }, errorText(error)));
        submit.disabled = false;
      }
    }

    const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
    const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
    const byPassword = h("form", {
      class: "card",
      onsubmit: (e) => signIn(e, { email: email.value, password: password.value }),
    },
    h("h2", {}, "With your email"),
    field("Email", email),
    field("Password", password),
    h("button", { type: "submit" }, "Sign in"));

    const key = h("input", { type: "password", name: "api_key", autocomplete: "off", required: true });
    const byKey = h("form", {
      class: "card",
      onsubmit: (e) => signIn(e, { api_key: key.value.trim() }),
    },
    h("h2", {}, "With an API key"),
    field("API key", key, "The key itself is not kept: the browser holds a signed reference to it for 12 hours."),
    h("button", { type: "submit", class: "secondary" }, "Sign in with key"));

    root.append(h("h1", {}, "Sign in to sendrail"), status, h("div", { class: "grid two" }, byPassword, byKey));
    email.focus();
  },
};
