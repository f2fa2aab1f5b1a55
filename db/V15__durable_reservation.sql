-- Durable reservation (Boulder's issuance cycle): a certificate's row is committed as PENDING,
-- with the SHA-256 of the exact TBSCertificate that will be signed, before anything is signed;
-- signing and storing the DER (ISSUED) follow in the request's own transaction. A reservation
-- whose issuance did not complete (its transaction rolled back, or the sweeper found it PENDING
-- after a crash) becomes ABANDONED: never delivered, never served as good (OCSP answers revoked
-- for it, RFC 6960 2.2), and its serial is never used again (the row stays).
alter table certificate drop constraint certificate_status_check;
alter table certificate add constraint certificate_status_check
    check (status in ('PENDING', 'ISSUED', 'REVOKED', 'ABANDONED'));
alter table certificate drop constraint certificate_check;
alter table certificate add constraint certificate_der_check check (status in ('PENDING', 'ABANDONED') or der is not null);
alter table certificate add column tbs_sha256 varchar(64);
create index certificate_pending_idx on certificate (created_at) where status = 'PENDING';
