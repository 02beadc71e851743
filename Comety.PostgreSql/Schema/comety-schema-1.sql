-- Comety's PostgreSQL log, schema version 1. Comety.PostgreSql runs this itself on start (with
-- CreateSchema, the default), once, under an advisory lock; teams that manage their schemas
-- themselves run it (with the schema name in place of "comety") and set CreateSchema = false.
-- Every statement is idempotent.

CREATE SCHEMA IF NOT EXISTS comety;

CREATE TABLE IF NOT EXISTS comety.schema_versions (
    version    integer     PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- One row per dispatcher (log name). Appenders update last_sequence inside their transaction, so
-- the row's lock serializes them: numbers are taken in commit order, and a reader that sees a
-- record sees every record before it (no gap, ever). epoch is the store's identity: a store that
-- was wiped or restored from an older backup has another, and the servers' pages resynchronise.
CREATE TABLE IF NOT EXISTS comety.logs (
    name            text        PRIMARY KEY,
    epoch           uuid        NOT NULL,
    last_sequence   bigint      NOT NULL DEFAULT 0,
    trimmed_through bigint      NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- The records: events, and the membership records (kind 1 to 4: registered, unregistered,
-- subscribed, unsubscribed) that every server applies in order. record is the event's bytes as
-- Comety wrote them (json keeps them; jsonb would reorder the arguments).
CREATE TABLE IF NOT EXISTS comety.records (
    log         text        NOT NULL,
    sequence    bigint      NOT NULL,
    kind        smallint    NOT NULL,
    user_id     text,
    channel     text,
    record      json        NOT NULL,
    appended_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log, sequence)
);

-- The membership as of logs.trimmed_through: trimming folds the membership records it removes
-- into these, so that a server that starts reads them and then the records after them.
CREATE TABLE IF NOT EXISTS comety.users (
    log           text   NOT NULL,
    user_id       text   NOT NULL,
    registered_at bigint NOT NULL,
    PRIMARY KEY (log, user_id)
);

CREATE TABLE IF NOT EXISTS comety.subscriptions (
    log     text NOT NULL,
    user_id text NOT NULL,
    channel text NOT NULL,
    PRIMARY KEY (log, user_id, channel)
);

-- Until when each user was last seen polling, on any server (each reports in batches); the
-- leader times out the users whose deadline passed.
CREATE TABLE IF NOT EXISTS comety.presence (
    log      text        NOT NULL,
    user_id  text        NOT NULL,
    deadline timestamptz NOT NULL,
    PRIMARY KEY (log, user_id)
);

CREATE INDEX IF NOT EXISTS presence_deadline ON comety.presence (log, deadline);

INSERT INTO comety.schema_versions (version) VALUES (1) ON CONFLICT DO NOTHING;
