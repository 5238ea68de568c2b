-- The identity graph (package identity): identifiers and the profile each
-- belongs to, the evidence that linked them, the merge log, the review
-- queue of links a guard stopped, the blocks that keep profiles apart, and
-- how far the resolver has read the event log.
--
-- Workspace ids carry no foreign key: the resolver writes what the event
-- log holds, and must not stop on a message of a workspace deleted since.
-- Identifiers are (kind, normalised value); profiles are "p_" ids derived
-- from the identifier that started them (root = 1).

create table identity_identifiers (
	workspace_id text    not null,
	kind         text    not null check (kind <> ''),
	value        text    not null check (value <> ''),
	profile_id   text    not null check (profile_id <> ''),
	root         integer not null check (root in (0, 1)),
	first_seen   integer not null,
	last_seen    integer not null,
	-- log position of the first message that held it
	first_seq    integer not null,
	-- log position from which it is shared (links nothing), 0 when not shared
	shared_seq   integer not null default 0,
	-- hashes of the user ids it was seen with (8 bytes each, little-endian)
	users        blob,
	-- value before kind: the key also serves the customer search by the
	-- beginning of any identifier
	primary key (workspace_id, value, kind)
) strict, without rowid;

create index identity_identifiers_profile on identity_identifiers(workspace_id, profile_id);

-- Evidence: two identifiers seen together, kept once per pair (the first
-- message that showed it). A message's identifiers form a star from its
-- first one (a), the others (b) in order (ord). The key finds the edges of
-- an identifier as a; identity_edges_b as b.
create table identity_edges (
	workspace_id text    not null,
	a_kind       text    not null,
	a_value      text    not null,
	b_kind       text    not null,
	b_value      text    not null,
	kind         text    not null check (kind in ('message', 'alias', 'manual')),
	pair         integer not null, -- hash of workspace, a, b and kind (read at start)
	ord          integer not null,
	seq          integer not null,
	message_id   text    not null,
	at           integer not null,
	primary key (workspace_id, a_kind, a_value, b_kind, b_value, kind)
) strict, without rowid;

create index identity_edges_b on identity_edges(workspace_id, b_kind, b_value);

create table identity_merges (
	id           integer primary key,
	workspace_id text    not null,
	into_profile text    not null,
	from_profile text    not null,
	by_kind      text    not null,
	by_value     text    not null,
	message_id   text    not null,
	seq          integer not null,
	at           integer not null,
	actor        text    not null, -- '' for an automatic merge
	undone_at    integer,          -- null unless split
	undone_by    text    not null default ''
) strict;

create index identity_merges_into on identity_merges(workspace_id, into_profile);
create index identity_merges_from on identity_merges(workspace_id, from_profile);
-- A batch stored twice logs its automatic merges once.
create unique index identity_merges_evidence on identity_merges(workspace_id, seq, from_profile) where actor = '';

create table identity_reviews (
	id           integer primary key,
	workspace_id text    not null,
	profile_a    text    not null,
	profile_b    text    not null,
	by_kind      text    not null,
	by_value     text    not null,
	message_id   text    not null,
	seq          integer not null,
	reason       text    not null check (reason in ('different_user_ids', 'shared_identifier')),
	at           integer not null,
	decided_at   integer,
	decision     text    not null default '' check (decision in ('', 'approved', 'rejected')),
	decided_by   text    not null default ''
) strict;

create unique index identity_reviews_evidence on identity_reviews(workspace_id, seq, profile_a, profile_b);
create index identity_reviews_queue on identity_reviews(workspace_id, decision, id);
create index identity_reviews_a on identity_reviews(workspace_id, profile_a);
create index identity_reviews_b on identity_reviews(workspace_id, profile_b);

-- Never merge the profiles of a and b again: a split merge or a rejected review.
create table identity_blocks (
	workspace_id text    not null,
	a_kind       text    not null,
	a_value      text    not null,
	b_kind       text    not null,
	b_value      text    not null,
	reason       text    not null check (reason in ('split', 'rejected')),
	ref          integer not null, -- the merge or review
	at           integer not null,
	actor        text    not null,
	primary key (workspace_id, a_kind, a_value, b_kind, b_value)
) strict, without rowid;

create index identity_blocks_b on identity_blocks(workspace_id, b_kind, b_value);

-- The last event log position the resolver has stored the effects of.
create table identity_offset (
	id  integer primary key check (id = 1),
	seq integer not null
) strict;
