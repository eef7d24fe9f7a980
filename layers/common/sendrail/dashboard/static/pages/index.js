// Every page of the dashboard, in navigation order. Both helpers add to this one list.
import login from "./login.js";
import campaigns from "./campaigns.js";

export default [campaigns, login];
