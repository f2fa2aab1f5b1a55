-- The reservation's age by the database's clock: the sweeper abandons PENDING rows whose
-- reserved_at lies more than trent.issuance.pending-timeout before the database's now(), so an
-- instance whose clock runs ahead cannot abandon another instance's live reservation early
-- (created_at stays the issuing instance's Clock: it is the certificate's issuedAt).
-- now() is stable, so PostgreSQL (11+) stores the default once: no table rewrite, no long lock;
-- existing rows read it, so the column is never null.
alter table certificate add column reserved_at timestamptz not null default now();
-- The sweep reads PENDING rows by reserved_at; nothing reads them by created_at any more.
drop index certificate_pending_idx;
create index certificate_pending_reserved_idx on certificate (reserved_at) where status = 'PENDING';
