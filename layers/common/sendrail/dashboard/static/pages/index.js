// Every page of the dashboard, in navigation order. Both helpers add to this one list.
import login from "./login.js";
import campaigns from "./campaigns.js";
import campaign from "./campaign.js";
import campaignNew, { edit as campaignEdit } from "./campaign_new.js";
import mailboxes from "./mailboxes.js";
import queue from "./queue.js";
import suppressions from "./suppressions.js";
import settings from "./settings.js";
import keys from "./keys.js";
import replies from "./replies.js";
import users from "./users.js";

export default [campaigns, campaignNew, campaignEdit, campaign, mailboxes, queue, suppressions, replies, settings, keys, users, login];
