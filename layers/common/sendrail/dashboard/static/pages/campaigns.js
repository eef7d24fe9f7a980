// Campaigns: the list, with status and progress (refreshed while any is running).
export default {
  route: "/campaigns",
  title: "Campaigns",
  nav: true,
  roles: ["owner", "sender", "viewer"],
  async render(root, ctx) {
    const { h } = ctx.ui;
    root.append(h("h1", {}, "Campaigns"));
  },
};
