-- The console's certificate search pages newest first (order by id desc) under an equality
-- filter on status, profile or issuer; its overview counts issuance and revocation per day over
-- the last days. Each gets an index it can walk instead of scanning the table. On a large
-- existing table an operator may prefer to create these by hand first with CREATE INDEX
-- CONCURRENTLY (same names): this migration then finds nothing to do.
create index if not exists certificate_status_id_idx on certificate (status, id);
create index if not exists certificate_profile_id_idx on certificate (profile, id);
create index if not exists certificate_issuer_id_idx on certificate (issuer_id, id);
create index if not exists certificate_created_at_idx on certificate (created_at);
create index if not exists certificate_revoked_at_idx on certificate (revoked_at) where revoked_at is not null;
