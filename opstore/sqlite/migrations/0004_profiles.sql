-- The profile index (package profile): per-actor activity taken from the
-- events, per-profile rows for the customers list, search and filters,
-- the events and trait values of each actor for the profile page, the
-- current stage of each actor and profile on each journey map, and staff
-- notes.
--
-- Everything but the notes is derived and can be rebuilt from the events,
-- the identity graph and the maps. Workspaces are not foreign keys here:
-- events may name a workspace before (or after) it exists in this store.
--
-- An actor is what an event is attributed to before identity resolution:
-- its userId (kind 'user_id'), else its anonymousId ('anonymous_id').

-- The highest event Seq the index has taken in.
create table profile_offset (
	id  integer primary key check (id = 1),
	seq integer not null
) strict;

insert into profile_offset (id, seq) values (1, 0);

create table profile_actors (
	id            integer primary key,
	workspace_id  text    not null,
	kind          text    not null check (kind in ('user_id', 'anonymous_id')),
	value         text    not null,
	-- The profile the identity graph gives the actor; null until known.
	profile_id    text,
	-- Null for an actor the graph named before any of its events arrived.
	first_seen    integer,
	last_seen     integer,
	events        integer not null default 0,
	orders        integer not null default 0,
	revenue       integer not null default 0, -- minor units of the workspace currency
	channels      integer not null default 0, -- bit i: opstore.Channels[i]
	last_order_at integer,
	unique (workspace_id, kind, value)
) strict;

create index profile_actors_profile on profile_actors(workspace_id, profile_id);

-- The events of each actor, for the profile timeline: the store is read
-- for just these Seqs.
create table profile_events (
	actor_id integer not null,
	at       integer not null,
	seq      integer not null,
	primary key (actor_id, at, seq)
) strict, without rowid;

-- Trait values set by identify calls: a row each time an actor's value of
-- a trait changes (latest value wins; the rest is the history).
create table profile_traits (
	actor_id  integer not null,
	trait     text    not null,
	at        integer not null,
	seq       integer not null,
	value     text    not null,
	source_id text    not null,
	primary key (actor_id, trait, at, seq)
) strict, without rowid;

-- The latest place of each actor's events on each journey map, computed
-- with the matchers whose fingerprint profile_maps records (a new map
-- version that changes no matcher keeps the stages).
create table profile_actor_stages (
	actor_id   integer not null,
	map_id     text    not null,
	stage      text    not null,
	touchpoint text    not null,
	at         integer not null,
	seq        integer not null,
	primary key (actor_id, map_id)
) strict, without rowid;

create index profile_actor_stages_map on profile_actor_stages(map_id);

create table profile_maps (
	workspace_id text    not null,
	map_id       text    not null,
	fingerprint  integer not null,
	primary key (workspace_id, map_id)
) strict, without rowid;

-- One row per profile with events: what the customers list shows, sorts
-- and filters on.
create table profiles (
	workspace_id  text    not null,
	id            text    not null,
	name          text    not null,
	-- The name folded (lower case, no diacritics), '~' for none: sorts
	-- profiles without a name last.
	name_key      text    not null,
	email         text    not null,
	phone         text    not null,
	-- The profile's userId if it has one, else its latest anonymousId:
	-- what the list shows for a customer without name, e-mail or phone.
	actor_kind    text    not null,
	actor_id      text    not null,
	first_seen    integer not null,
	last_seen     integer not null,
	events        integer not null,
	orders        integer not null,
	revenue       integer not null,
	channels      integer not null,
	last_order_at integer,
	-- The words the profile is found by (see opstore.ProfileRow.Terms), as
	-- profile_search holds them; read to check a profile against a search
	-- while walking a list in order.
	terms         text    not null,
	terms_hash    integer not null,
	unique (workspace_id, id)
) strict;

-- How many profiles each workspace has, kept by triggers: the customers
-- list shows it without counting a million rows.
create table profile_counts (
	workspace_id text    primary key,
	n            integer not null
) strict, without rowid;

create trigger profiles_counted after insert on profiles begin
	insert into profile_counts (workspace_id, n) values (new.workspace_id, 1)
		on conflict (workspace_id) do update set n = n + 1;
end;

create trigger profiles_uncounted after delete on profiles begin
	update profile_counts set n = n - 1 where workspace_id = old.workspace_id;
end;

create index profiles_last_seen on profiles(workspace_id, last_seen, id);
create index profiles_revenue   on profiles(workspace_id, revenue, id);
create index profiles_orders    on profiles(workspace_id, orders, id);
create index profiles_name      on profiles(workspace_id, name_key, id);

-- The search terms of each profile (rowid = profiles.rowid): the folded
-- name, the e-mail address (one word: "@", ".", "-", "_" and "+" are part
-- of words, and only e-mail addresses have them), the phone in its forms,
-- and trait values.
create virtual table profile_search using fts5(
	terms, content='', contentless_delete=1,
	tokenize='unicode61 remove_diacritics 2 tokenchars ''@.-_+''', prefix='2 3 4'
);

-- The current stage of each profile on each map: the stage of its most
-- recent event the map places.
create table profile_stages (
	workspace_id text    not null,
	profile_id   text    not null,
	map_id       text    not null,
	stage        text    not null,
	touchpoint   text    not null,
	at           integer not null,
	seq          integer not null,
	primary key (workspace_id, profile_id, map_id)
) strict, without rowid;

create index profile_stages_stage on profile_stages(workspace_id, map_id, stage, profile_id);

-- Profiles to look at again: those the identity graph changed (relink =
-- 1: read their actors from the graph), and those to recompute (dirty =
-- 1: their actors had events, or moved).
create table profile_marks (
	mark         integer primary key autoincrement,
	workspace_id text    not null,
	profile_id   text    not null,
	relink       integer not null check (relink in (0, 1)),
	dirty        integer not null check (dirty in (0, 1)),
	unique (workspace_id, profile_id)
) strict;

-- Staff notes. They follow a profile merged into another.
create table profile_notes (
	id           integer primary key autoincrement,
	workspace_id text    not null,
	profile_id   text    not null,
	author_id    text    not null,
	author_name  text    not null,
	body         text    not null check (body <> ''),
	created_at   integer not null
) strict;

create index profile_notes_profile on profile_notes(workspace_id, profile_id, created_at);
