-- The reservation's age by the database's clock: the sweeper abandons PENDING rows whose
-- reserved_at lies more than trent.issuance.pending-timeout before the database's now(), so an
-- instance whose clock runs ahead cannot abandon another instance's live reservation early
-- (created_at stays the issuing instance's Clock: it is the certificate's issuedAt).
-- now() is stable, so PostgreSQL (11+) stores the default once: no table rewrite, no long lock.
alter table certificate add column reserved_at timestamptz default now();
