-- cjm operational schema, first version.
--
-- Times are INTEGER milliseconds since the Unix epoch, UTC. Booleans are
-- INTEGER 0/1. IDs are short random text with a type prefix ("ws_", "src_",
-- "usr_", "key_"). Tables are STRICT so a wrong type is an error, not a
-- silently coerced value.

create table workspaces (
	id         text    primary key,
	name       text    not null check (name <> ''),
	time_zone  text    not null,
	currency   text    not null,
	created_at integer not null
) strict;

create table sources (
	id           text    primary key,
	workspace_id text    not null references workspaces(id) on delete cascade,
	name         text    not null check (name <> ''),
	channel      text    not null,
	write_key    text    not null unique,
	rate_limit   integer not null default 0 check (rate_limit >= 0),
	disabled     integer not null default 0 check (disabled in (0, 1)),
	created_at   integer not null,
	unique (workspace_id, name)
) strict;

create table users (
	id            text    primary key,
	email         text    not null unique check (email <> ''),
	name          text    not null,
	password_hash text    not null,
	lang          text    not null,
	created_at    integer not null
) strict;

create table members (
	workspace_id text    not null references workspaces(id) on delete cascade,
	user_id      text    not null references users(id) on delete cascade,
	role         text    not null check (role in ('owner', 'editor', 'viewer')),
	created_at   integer not null,
	primary key (workspace_id, user_id)
) strict, without rowid;

create index members_user on members(user_id);

create table sessions (
	token_hash   text    primary key,
	user_id      text    not null references users(id) on delete cascade,
	-- null while the user looks at no workspace, or after it was deleted
	workspace_id text    references workspaces(id) on delete set null,
	csrf_token   text    not null,
	created_at   integer not null,
	expires_at   integer not null
) strict;

create index sessions_user    on sessions(user_id);
create index sessions_expires on sessions(expires_at);

create table api_keys (
	id           text    primary key,
	workspace_id text    not null references workspaces(id) on delete cascade,
	name         text    not null,
	prefix       text    not null,
	hash         text    not null unique check (hash <> ''),
	role         text    not null check (role in ('owner', 'editor', 'viewer')),
	created_at   integer not null,
	last_used_at integer -- null: never used
) strict;

create index api_keys_workspace on api_keys(workspace_id);

-- Rejected messages have no foreign keys on purpose: storing them must not
-- fail because a source was deleted while its batch was in flight.
create table rejected (
	id           integer primary key autoincrement,
	workspace_id text    not null,
	source_id    text    not null,
	received_at  integer not null,
	origin       text    not null,
	idx          integer not null,
	code         text    not null,
	field        text    not null,
	reason       text    not null,
	payload      text    not null
) strict;

-- Newest-first paging by id within a workspace, optionally by source or code.
create index rejected_workspace        on rejected(workspace_id, id);
create index rejected_workspace_source on rejected(workspace_id, source_id, id);
create index rejected_workspace_code   on rejected(workspace_id, code, id);
