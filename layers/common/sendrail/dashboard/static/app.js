// The shell: who is signed in, the navigation, and a hash router over pages/index.js.
import { api, upload, download, setCsrf, ApiError } from "./api.js";
import * as ui from "./ui.js";
import pages from "./pages/index.js";

const { h } = ui;
const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
let user = null;
let cleanups = [];

function compile(route) {
  const names = [];
  const pattern = route.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  return { regex: new RegExp(`^${pattern}$`), names };
}

const routes = pages.map((page) => ({ page, ...compile(page.route) }));

function match(path) {
  // Literal routes win over ":id" ones (#/campaigns/new before #/campaigns/:id).
  const sorted = [...routes].sort((a, b) => a.names.length - b.names.length);
  for (const route of sorted) {
    const found = route.regex.exec(path);
    if (found) {
      const params = {};
      route.names.forEach((name, i) => { params[name] = decodeURIComponent(found[i + 1]); });
      return { page: route.page, params };
    }
  }
  return null;
}

function can(...roles) {
  return Boolean(user && roles.includes(user.role));
}

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function signOut() {
  try {
    await api("DELETE", "/api/auth/session");
  } catch (error) {
    // Already signed out: the cookie is gone either way.
  }
  setSignedIn(null);
  navigate("#/login");
}

export function setSignedIn(me) {
  user = me ? { role: me.role, email: me.user || null, tenant_id: me.tenant_id } : null;
  setCsrf(me ? me.csrf_token : null);
  drawChrome();
}

function drawChrome() {
  const current = location.hash.split("?")[0] || "#/campaigns";
  nav.replaceChildren();
  who.replaceChildren();
  if (!user) return;
  const links = pages
    .filter((p) => p.nav && p.roles.includes(user.role))
    .map((p) => {
      const href = `#${p.route}`;
      const active = current === href || current.startsWith(`${href}/`);
      return h("a", { href, "aria-current": active ? "page" : null }, p.title);
    });
  nav.append(...links);
  who.append(
    h("span", { class: "muted" }, `${user.email || "API key"} · ${user.role}`),
    h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"),
  );
}

async function whoAmI() {
  try {
    setSignedIn(await api("GET", "/api/me"));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    setSignedIn(null);
  }
}

async function render() {
  for (const fn of cleanups.splice(0)) {
    try { fn(); } catch (error) { console.error(error); }
  }
  const path = (location.hash || "#/campaigns").slice(1).split("?")[0];
  let found = match(path);
  if (!user && path !== "/login") {
    location.hash = "#/login";
    return;
  }
  if (!found) found = match("/campaigns");
  const { page, params } = found;
  drawChrome();
  const root = h("div", { class: "page" });
  main.replaceChildren(root);
  document.title = `${page.title} · sendrail`;
  if (user && !page.roles.includes(user.role)) {
    root.append(h("h1", {}, page.title), h("p", {}, "Your role may not open this page."));
    return;
  }
  const ctx = {
    api, upload, download, ui, user, params, can, navigate,
    onLeave: (fn) => cleanups.push(fn),
    signedIn: (me) => setSignedIn(me),
  };
  try {
    await page.render(root, ctx);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    root.append(h("p", { class: "notice error", role: "alert" }, ui.errorText(error)));
  }
  // Keyboard and screen-reader users land on the new page, unless it focused a field itself.
  if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", render);
window.addEventListener("sendrail:signed-out", () => {
  if (!user) return;
  setSignedIn(null);
  navigate("#/login");
});
await whoAmI();
await render();
