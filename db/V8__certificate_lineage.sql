-- Renewal lineage: the certificate a renewal replaced. A keyCompromise of a certificate reaches
-- the certificates renewed from it (whoever held the compromised key could have renewed).
alter table certificate add column renewed_from bigint references certificate (id);
create index certificate_renewed_from_idx on certificate (renewed_from) where renewed_from is not null;
