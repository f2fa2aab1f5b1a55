-- Which token authorised a certificate is recorded once, on the token's row: enrollment_token.
-- certificate_id (V23), set by the statement that stores the DER and read by a retried
-- enrollment. certificate.token_id repeated it; nothing read it, and its foreign key made every
-- enrollment's store look the token row up again and lock it (bench/README.md, "Fewer round
-- trips"). The store no longer writes it. The column stays, unused and without its key, for one
-- release: an instance of the previous release that still runs during a rolling upgrade writes
-- it when it stores a DER. A later release drops it.
alter table certificate drop constraint if exists certificate_token_id_fkey;
comment on column certificate.token_id is
    'Unused since V26 (see enrollment_token.certificate_id); kept for one release for rolling upgrades.';
