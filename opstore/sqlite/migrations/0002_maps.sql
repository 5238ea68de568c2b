-- Customer journey maps: versioned JSON documents with comments, read-only
-- share links and an activity log. Everything of a map is deleted with it,
-- and a map with its workspace.
--
-- User ids here (authors, mentions, share creators) record history rather
-- than reference users: they have no foreign keys, so deleting a user keeps
-- what they wrote, under the name they had at the time. '' is the CLI or
-- the system.

create table maps (
	id           text    primary key,
	workspace_id text    not null references workspaces(id) on delete cascade,
	name         text    not null check (name <> ''),
	-- The name NFC-normalised and lower-cased in Go: SQLite's lower() and
	-- nocase only fold ASCII, and "Hành trình" must collide with "HÀNH TRÌNH".
	name_key     text    not null check (name_key <> ''),
	state        text    not null check (state in ('current', 'future')),
	-- The latest row of map_versions, which holds the document.
	version      integer not null check (version >= 1),
	created_at   integer not null,
	unique (workspace_id, name_key)
) strict;

create table map_versions (
	map_id      text    not null references maps(id) on delete cascade,
	version     integer not null check (version >= 1),
	name        text    not null check (name <> ''),
	state       text    not null check (state in ('current', 'future')),
	doc         blob    not null,
	author_id   text    not null,
	author_name text    not null,
	note        text    not null,
	created_at  integer not null,
	primary key (map_id, version)
) strict;

create table map_comments (
	id          text    primary key,
	map_id      text    not null references maps(id) on delete cascade,
	target      text    not null, -- '' for the map as a whole
	author_id   text    not null,
	author_name text    not null,
	body        text    not null check (body <> ''),
	created_at  integer not null,
	resolved_at integer -- null while open
) strict;

create index map_comments_map on map_comments(map_id, created_at);

create table map_comment_mentions (
	comment_id text not null references map_comments(id) on delete cascade,
	user_id    text not null check (user_id <> ''),
	primary key (comment_id, user_id)
) strict, without rowid;

create index map_comment_mentions_user on map_comment_mentions(user_id);

create table map_shares (
	id         text    primary key,
	map_id     text    not null references maps(id) on delete cascade,
	token_hash text    not null unique check (token_hash <> ''),
	prefix     text    not null,
	created_by text    not null,
	created_at integer not null,
	expires_at integer, -- null: never
	revoked_at integer  -- null: active
) strict;

create index map_shares_map on map_shares(map_id, created_at);

create table map_activity (
	id        integer primary key autoincrement,
	map_id    text    not null references maps(id) on delete cascade,
	user_id   text    not null,
	user_name text    not null,
	action    text    not null check (action <> ''),
	detail    text    not null,
	at        integer not null
) strict;

create index map_activity_map on map_activity(map_id, id);
