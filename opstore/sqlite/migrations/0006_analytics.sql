-- KPIs (AARRR): which events and properties each workspace's KPIs read,
-- and the marketing spend imported per channel and campaign, for CAC.

-- A workspace without a row reads the defaults (opstore.DefaultKPISettings).
create table kpi_settings (
	workspace_id      text    primary key references workspaces(id) on delete cascade,
	-- JSON arrays of event names
	signup_events     text    not null default '[]' check (json_valid(signup_events) and json_type(signup_events) = 'array'),
	activation_events text    not null default '[]' check (json_valid(activation_events) and json_type(activation_events) = 'array'),
	purchase_event    text    not null check (purchase_event <> ''),
	revenue_property  text    not null check (revenue_property <> ''),
	referral_event    text    not null default '', -- '': no referral KPI
	nps_event         text    not null default '', -- '': no NPS KPI
	nps_property      text    not null default '',
	currency          text    not null check (length(currency) = 3),
	updated_by        text    not null default '',
	updated_at        integer not null
) strict;

-- Marketing spend of a channel (campaign '') or one of its campaigns over
-- the workspace-local days [from_date, to_date), dates as YYYY-MM-DD.
-- Amounts are in the currency's minor units.
create table marketing_spend (
	workspace_id text    not null references workspaces(id) on delete cascade,
	channel      text    not null check (channel <> ''),
	campaign     text    not null default '',
	from_date    text    not null check (from_date glob '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
	to_date      text    not null check (to_date glob '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]' and to_date > from_date),
	amount       integer not null check (amount >= 0),
	currency     text    not null check (length(currency) = 3),
	imported_at  integer not null,
	primary key (workspace_id, channel, campaign, from_date)
) strict, without rowid;

create index marketing_spend_dates on marketing_spend(workspace_id, from_date);
