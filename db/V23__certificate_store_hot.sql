-- Storing the signed DER (PENDING -> ISSUED, the DER, the token) is a HOT update again, as V2
-- designed it: no index of the certificate table reads a column that this update changes (status,
-- der, token_id), so PostgreSQL writes the new row version beside the old one on the same page and
-- touches none of the table's indexes, instead of adding an entry to each of them (measured in
-- bench/README.md: the second write was 0.226 ms and 17 WAL records per enrollment, non-HOT).
--   * Reservations still pending are listed in certificate_pending (its reserved_at is the
--     certificate row's), which the sweeper reads, instead of a partial index on status: the
--     reservation inserts both rows in one statement, storing or abandoning deletes the entry in
--     the statement that changes the status. No foreign key: its check would lock the certificate
--     row; only these statements write the table.
--   * One certificate per enrollment token is kept by the token's own row: the statement that
--     stores the DER marks the token used only where it was unused (used_at is null), under the
--     row lock the enrollment holds, and links it to that certificate (enrollment_token.
--     certificate_id); the unique index on certificate.token_id goes.
--   * The console's REVOKED filter walks revoked rows' own partial index (revoked_at, which the
--     store does not change); its ISSUED filter walks the primary key.
create table certificate_pending (
    certificate_id bigint      primary key,
    reserved_at    timestamptz not null
);
create index certificate_pending_reserved_at_idx on certificate_pending (reserved_at);
insert into certificate_pending (certificate_id, reserved_at)
    select id, reserved_at from certificate where status = 'PENDING';
drop index if exists certificate_pending_reserved_idx;
drop index if exists certificate_token_uq;
drop index if exists certificate_status_id_idx;
create index if not exists certificate_revoked_id_idx on certificate (id) where revoked_at is not null;
