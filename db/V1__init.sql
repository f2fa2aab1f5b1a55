-- Trent schema, version 1: issuers, enrollment tokens, certificates, operators' API keys and
-- the append-only audit log.

create table issuer (
    id              varchar(64)  primary key,          -- hex of the issuer's subjectKeyIdentifier
    subject_dn      text         not null,
    certificate_der bytea        not null,
    not_after       timestamptz  not null,
    created_at      timestamptz  not null default now()
);

create table api_key (
    id          bigserial    primary key,
    name        varchar(100) not null,
    role        varchar(16)  not null check (role in ('ADMIN', 'OPERATOR', 'AUDITOR')),
    key_hash    bytea        not null unique,          -- SHA-256 of the key; the key itself is never stored
    created_at  timestamptz  not null,
    created_by  varchar(120) not null,
    revoked_at  timestamptz
);

create table enrollment_token (
    id              bigserial    primary key,
    token_hash      bytea        not null unique,      -- SHA-256 of the token; the token itself is never stored
    device_id       varchar(64)  not null,
    profile         varchar(64)  not null,
    dns_names       text[]       not null default '{}',
    batch_id        uuid,
    created_at      timestamptz  not null,
    created_by      varchar(120) not null,
    expires_at      timestamptz  not null,
    used_at         timestamptz,
    certificate_id  bigint,
    check ((used_at is null) = (certificate_id is null))
);
create index enrollment_token_device_idx on enrollment_token (device_id);
create index enrollment_token_batch_idx on enrollment_token (batch_id) where batch_id is not null;

create table certificate (
    id                bigserial    primary key,
    issuer_id         varchar(64)  not null references issuer (id),
    serial            varchar(42)  not null,           -- lower-case hex, no leading zeros
    device_id         varchar(64)  not null,
    profile           varchar(64)  not null,
    subject_dn        text         not null,
    dns_names         text[]       not null default '{}',
    not_before        timestamptz  not null,
    not_after         timestamptz  not null,
    key_type          varchar(16)  not null,
    public_key_sha256 varchar(64)  not null,           -- hex SHA-256 of the SubjectPublicKeyInfo DER
    token_id          bigint       references enrollment_token (id),
    -- PENDING exists only inside the issuing transaction: the row is written before the
    -- signature exists and committed only together with the signed DER.
    status            varchar(16)  not null check (status in ('PENDING', 'ISSUED', 'REVOKED')),
    der               bytea,
    created_at        timestamptz  not null,
    unique (issuer_id, serial),
    -- Serials are 128 random bits; uniqueness across issuers keeps /certificates/{serial} unambiguous.
    unique (serial),
    check (status = 'PENDING' or der is not null)
);
alter table enrollment_token
    add constraint enrollment_token_certificate_fk foreign key (certificate_id) references certificate (id);
create index certificate_device_idx on certificate (device_id);
create index certificate_not_after_idx on certificate (not_after);
create index certificate_public_key_idx on certificate (public_key_sha256);

create table audit_event (
    id           bigserial    primary key,
    occurred_at  timestamptz  not null,
    actor        varchar(120) not null,
    action       varchar(64)  not null,
    subject      varchar(200),
    details      jsonb        not null default '{}'
);
create index audit_event_occurred_idx on audit_event (occurred_at);

-- The audit log is append-only: no role, not even the table's owner, can change or remove a row.
create function audit_event_immutable() returns trigger language plpgsql as $$
begin
    raise exception 'audit_event is append-only (% refused)', tg_op;
end;
$$;
create trigger audit_event_no_update_delete
    before update or delete on audit_event
    for each row execute function audit_event_immutable();
create trigger audit_event_no_truncate
    before truncate on audit_event
    for each statement execute function audit_event_immutable();
