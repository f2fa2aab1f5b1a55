-- Revocation: reason, time and invalidity date on the certificate record; keys reported
-- compromised; CRLs as published.

alter table certificate
    add column revoked_at        timestamptz,
    add column revocation_reason varchar(32),
    add column invalidity_date   timestamptz,
    add constraint certificate_revocation_consistent
        check ((status = 'REVOKED') = (revoked_at is not null and revocation_reason is not null));
-- On revoked_at, not status: the PENDING -> ISSUED update then changes no indexed column and can
-- stay a HOT update (fillfactor leaves room on the page for the DER that it adds).
create index certificate_revoked_idx on certificate (issuer_id, id) where revoked_at is not null;
alter table certificate set (fillfactor = 70);
-- One certificate per enrollment token, enforced by the schema too (the application holds the
-- token's row lock and consumes it in the statement that reserves the serial).
create unique index certificate_token_uq on certificate (token_id) where token_id is not null;

-- The issuer's chain, so that certificates of a former issuer still render with their chain.
alter table issuer add column chain_pem text;

-- A key reported with keyCompromise: every certificate for it is revoked and enrollment refuses it.
create table blocked_key (
    public_key_sha256 varchar(64)  primary key,
    blocked_at        timestamptz  not null,
    serial            varchar(42)  not null,
    blocked_by        varchar(120) not null
);
