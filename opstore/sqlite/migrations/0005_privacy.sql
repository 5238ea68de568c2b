-- Privacy: the audit records of data subjects' requests (exports and
-- erasures), the suppression list of erased identifiers, and each
-- workspace's event retention policy.
--
-- Identifiers are never stored here: only their keyed hash (SHA-256 of
-- workspace and identifier, see privacy.Hash), so the audit trail and the
-- suppression list outlive the person's data without holding it.

create table privacy_requests (
	id              text    primary key,
	workspace_id    text    not null references workspaces(id) on delete cascade,
	kind            text    not null check (kind in ('export', 'delete')),
	identifier_kind text    not null,
	identifier_hash text    not null check (identifier_hash <> ''),
	-- a masked form of the identifier, for exports only; cleared on erasure
	hint            text    not null default '',
	actor           text    not null,
	status          text    not null check (status in ('running', 'done', 'failed')),
	error           text    not null default '',
	-- JSON object: store name -> records exported or erased
	counts          text    not null default '{}',
	-- the export file's name in the export directory, '' when none
	file            text    not null default '',
	requested_at    integer not null,
	completed_at    integer -- null while running
) strict;

create index privacy_requests_workspace on privacy_requests(workspace_id, requested_at);
create index privacy_requests_hash      on privacy_requests(workspace_id, identifier_hash);

create table suppressed_identifiers (
	workspace_id text    not null references workspaces(id) on delete cascade,
	hash         text    not null check (hash <> ''),
	kind         text    not null,
	request_id   text, -- the deletion that added it
	created_at   integer not null,
	primary key (workspace_id, hash)
) strict, without rowid;

create table retention_policies (
	workspace_id text    primary key references workspaces(id) on delete cascade,
	event_days   integer not null check (event_days >= 0),
	updated_by   text    not null,
	updated_at   integer not null,
	last_run_at  integer, -- null: never ran
	last_deleted integer not null default 0
) strict;
