-- Webhooks (Standard Webhooks, https://www.standardwebhooks.com/): the endpoints operators
-- register, and a durable outbox with one row per event and endpoint. Rows for a certificate's
-- change are written in the transaction of that change, so an event exists exactly when its
-- change was committed; dispatchers on every instance claim due rows with FOR UPDATE SKIP LOCKED
-- and a lease (locked_until), so each row is sent by one instance at a time.

create table webhook_endpoint (
    id                bigserial    primary key,
    url               text         not null,
    event_types       text[]       not null,
    -- The signing secret, AES-256-GCM under the webhook key file (12-byte nonce || ciphertext
    -- || tag, the endpoint id as associated data); never stored in the clear.
    secret_sealed     bytea        not null,
    -- First 16 hex digits of SHA-256 of the key that sealed it: an instance with another key
    -- leaves this endpoint's deliveries to instances that can read the secret.
    secret_key_id     varchar(16)  not null,
    description       varchar(200),
    created_at        timestamptz  not null,
    created_by        varchar(120) not null
);

create table webhook_delivery (
    id               bigserial    primary key,
    endpoint_id      bigint       not null references webhook_endpoint (id) on delete cascade,
    message_id       varchar(40)  not null,          -- webhook-id: one per event, stable across retries
    event_type       varchar(32)  not null,
    -- The exact body that is signed and sent: json (not jsonb) keeps the text byte for byte.
    payload          json         not null,
    status           varchar(16)  not null check (status in ('PENDING', 'DELIVERED', 'FAILED')),
    attempts         integer      not null default 0,
    created_at       timestamptz  not null,
    next_attempt_at  timestamptz,                    -- set while PENDING
    locked_until     timestamptz,                    -- the lease of the instance sending it now
    last_attempt_at  timestamptz,
    last_status      integer,                        -- HTTP status of the last attempt, if any answered
    last_error       varchar(300),                   -- a short reason (never a secret, never the body)
    delivered_at     timestamptz,
    unique (endpoint_id, message_id),
    check ((status = 'PENDING') = (next_attempt_at is not null))
);
create index webhook_delivery_due_idx on webhook_delivery (endpoint_id, next_attempt_at) where status = 'PENDING';
create index webhook_delivery_history_idx on webhook_delivery (endpoint_id, id);

-- certificate.expiring is announced once per certificate, whichever instance finds it first.
create table webhook_expiring_announced (
    certificate_id  bigint       primary key references certificate (id),
    announced_at    timestamptz  not null
);
