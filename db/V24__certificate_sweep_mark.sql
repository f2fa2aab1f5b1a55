-- The sweeper finds reservations left PENDING by walking the certificate table's primary key from
-- a mark, instead of reading a list that every reservation wrote to and every store deleted from
-- (V23's certificate_pending: measured in bench/README.md, that list cost PostgreSQL about 0.1 ms
-- of CPU and 4 WAL records per certificate, 8% of its work per enrollment). Storing the signed DER
-- stays a HOT update (no index reads status, der or token_id).
--   below: every certificate row whose id is below it was reserved more than twice
--   trent.issuance.pending-timeout before a sweep that found it no longer PENDING (or abandoned
--   it); a sweep reads only rows from the mark on, and moves the mark past the rows it settled.
-- Rows written by an instance older than V23 (a rolling upgrade) are found the same way; V23's
-- list table never shipped in a release, so no running instance still writes it.
create table certificate_sweep (
    singleton boolean primary key default true check (singleton),
    below     bigint  not null
);
-- The first mark: the oldest row still PENDING or reserved within the last day (a reservation in
-- flight while this runs, invisible to it, drew its id after those), else past the last row.
insert into certificate_sweep (below)
    select coalesce((select min(id) from certificate
                     where status = 'PENDING' or reserved_at > now() - interval '1 day'),
                    (select coalesce(max(id), 0) + 1 from certificate));
drop table certificate_pending;
