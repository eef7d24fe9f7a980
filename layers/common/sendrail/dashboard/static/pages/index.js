// Every page of the dashboard, in navigation order. Both helpers add to this one list.
import login from "./login.js";
import campaigns from "./campaigns.js";
import campaign from "./campaign.js";
import campaignNew, { edit as campaignEdit } from "./campaign_new.js";

export default [campaigns, campaignNew, campaignEdit, campaign, login];
