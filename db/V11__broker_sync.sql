-- Mosquitto dynamic-security sync (dev.trent.broker): one row per device id whose broker state
-- must be brought in line with the inventory. Written (upserted) in the transaction of the
-- certificate change, so the change and the need to sync commit together; deleted by the relay
-- once the broker matches the device's state as read after the claim. A change made while the
-- relay works on the device bumps version, so the row stays and the device is synced again.
create table broker_sync (
    device_id      varchar(64)  primary key,
    version        bigint       not null default 1,
    due_at         timestamptz  not null,              -- not before (backoff after a failure)
    urgent         boolean      not null default false, -- a revocation or hold: claimed before the rest
    attempts       int          not null default 0,    -- failed attempts since the last change
    claimed_by     varchar(64),                        -- the instance working on it ...
    claimed_until  timestamptz,                        -- ... until then (a crashed instance's claim lapses)
    last_error     text
);
create index broker_sync_due_idx on broker_sync (urgent desc, due_at);
