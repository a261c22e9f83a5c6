-- Lost & Found homeserver schema, version 1.
--
-- Every table says what it holds and what the 2021 incident did to it:
-- the server's disk filled during a database copy, the old database was
-- deleted anyway, and the server was restored from a five-month-old
-- backup. Whatever lived only in these tables was lost unless another
-- server in the federation held a copy.
--
-- Identifiers (user, room, event IDs) are stored as the spec writes them,
-- as TEXT. Timestamps are milliseconds since the Unix epoch, supplied by
-- the caller (the store has no clock, so lab runs stay deterministic).

-- Which migrations have been applied. The newest row is the schema
-- version; `open` refuses a database newer than the program.
CREATE TABLE schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL
);

-- Local user accounts. Accounts never leave their server: every account
-- registered after the backup was lost for good, and users had to
-- register their names again.
CREATE TABLE accounts (
    user_id       TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,  -- a PHC string; never the password
    created_ts    INTEGER NOT NULL
);

-- Logged-in devices and their access tokens. Lost with the accounts: every
-- session started after the backup stopped working at once.
CREATE TABLE devices (
    user_id      TEXT NOT NULL REFERENCES accounts (user_id),
    device_id    TEXT NOT NULL,
    access_token TEXT NOT NULL UNIQUE,
    display_name TEXT,
    PRIMARY KEY (user_id, device_id)
);

-- Display names and avatars of local users. An avatar is an `mxc://` URL
-- into the media table below: restoring the row without the file gives a
-- broken picture, which is what some users saw.
CREATE TABLE profiles (
    user_id     TEXT PRIMARY KEY REFERENCES accounts (user_id),
    displayname TEXT,
    avatar_url  TEXT
);

-- Rooms this server takes part in. Unfederated rooms (`federate = 0`)
-- existed only here: those created after the backup, and everything said
-- in them, were lost. Federated rooms came back from the other servers.
CREATE TABLE rooms (
    room_id      TEXT PRIMARY KEY,
    room_version TEXT NOT NULL,
    federate     INTEGER NOT NULL CHECK (federate IN (0, 1))
);

-- Local aliases (`#name:server`) pointing at rooms. Aliases are looked up
-- on the server named in them, so a lost alias is lost for everyone.
CREATE TABLE room_aliases (
    alias   TEXT PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms (room_id)
);

-- Every event this server holds, as the canonical JSON of the PDU (the
-- hashes and the event ID are computed over it, so it is kept whole).
--
-- `stream_ordering` is the order in which this server learnt of events,
-- which is not the room's causal order: `/sync` tokens are stream
-- positions. It is the INTEGER PRIMARY KEY because only such a column can
-- be AUTOINCREMENT in SQLite, which promises never to reuse a position.
-- `event_id` is UNIQUE: the key the protocol uses.
--
-- An outlier is an event held without its place in the timeline (an auth
-- event fetched from a peer): it has a position, but clients never see it.
-- `membership` copies `content.membership` of `m.room.member` events so
-- that current membership can be indexed without parsing JSON.
--
-- The incident lost every event created after the backup; events in
-- federated rooms came back from peers through backfill and
-- get_missing_events, with new (higher) stream positions.
CREATE TABLE events (
    stream_ordering INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT NOT NULL UNIQUE,
    room_id         TEXT NOT NULL,
    depth           INTEGER NOT NULL,
    outlier         INTEGER NOT NULL CHECK (outlier IN (0, 1)),
    state_group     INTEGER NOT NULL REFERENCES state_groups (group_id),
    membership      TEXT,
    json            TEXT NOT NULL
);
-- The timeline of one room, as clients page through it.
CREATE INDEX events_timeline ON events (room_id, stream_ordering) WHERE outlier = 0;

-- State groups: one full snapshot of a room's state, shared by every event
-- after which the room's state was that snapshot. A message does not
-- change state, so it reuses its parent's group; only state events make
-- new groups. Without sharing, a room with 1,000 members and 100,000
-- messages would store 100 million state rows.
--
-- Lost with the events; `send_join` brings a room's current state back in
-- one reply, which is how re-registered users found their memberships.
CREATE TABLE state_groups (
    group_id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id  TEXT NOT NULL
);
CREATE INDEX state_groups_by_room ON state_groups (room_id, group_id);

-- The rows of each snapshot: one per `(type, state_key)` slot.
CREATE TABLE state_group_entries (
    group_id  INTEGER NOT NULL REFERENCES state_groups (group_id),
    type      TEXT NOT NULL,
    state_key TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    PRIMARY KEY (group_id, type, state_key)
) WITHOUT ROWID;

-- The state of each room now: what clients see and what the next event is
-- authorised against. Derived from the events (it is the state after the
-- newest timeline event), kept as a table so that "which rooms is Alice
-- in?" is an index lookup. After the restore it said January's state until
-- federation brought newer events.
CREATE TABLE current_state (
    room_id    TEXT NOT NULL,
    type       TEXT NOT NULL,
    state_key  TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    membership TEXT,  -- copied from the member event, for rooms_with_membership
    PRIMARY KEY (room_id, type, state_key)
) WITHOUT ROWID;
CREATE INDEX current_memberships ON current_state (state_key, membership)
    WHERE type = 'm.room.member';

-- The newest events of each room, those with no children yet: the
-- `prev_events` of the next event sent here. After the restore they
-- pointed at January's events, so the first new message revealed the gap
-- to every peer that received it.
CREATE TABLE forward_extremities (
    room_id  TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (room_id, event_id)
) WITHOUT ROWID;

-- Client transaction IDs: a client that retries `PUT .../send/{txnId}` gets
-- the event it already created instead of a duplicate.
CREATE TABLE client_transactions (
    user_id   TEXT NOT NULL,
    device_id TEXT NOT NULL,
    txn_id    TEXT NOT NULL,
    event_id  TEXT NOT NULL REFERENCES events (event_id),
    PRIMARY KEY (user_id, device_id, txn_id)
) WITHOUT ROWID;

-- Metadata of uploaded and cached files; the bytes are files in the media
-- directory, `media/<origin>/<media_id>`. Media is not replicated by
-- federation (other servers fetch it on demand and may not keep it), so
-- files uploaded after the backup, avatars included, were lost.
CREATE TABLE media (
    origin       TEXT NOT NULL,
    media_id     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    filename     TEXT,
    uploader     TEXT NOT NULL,
    created_ts   INTEGER NOT NULL,
    PRIMARY KEY (origin, media_id)
);

-- The federation outbox: events waiting to be sent to each destination.
-- Rows survive restarts until the destination acknowledges them, so a
-- crash does not silently drop a message another server should get. The
-- restore brought back January's queue: whatever was waiting in June was
-- never sent, unless a peer later asked for it.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    destination TEXT NOT NULL,
    event_id    TEXT NOT NULL REFERENCES events (event_id),
    UNIQUE (destination, event_id)
);
CREATE INDEX outbox_by_destination ON outbox (destination, id);
