-- Every certificate row is written twice on the issuance path (the PENDING reservation, then the
-- signed DER), and each write updates every index of the table: two of them only repeated what
-- another index already answers.
--   * unique (issuer_id, serial): implied by unique (serial) (V1); a lookup by issuer and serial
--     (OCSP, CRL, the API) is served by the serial's unique index and checks the issuer on the row.
--   * certificate_device_idx (device_id): certificate_device_prefix_idx (V20, varchar_pattern_ops)
--     serves equality on device_id as well as the console's prefix search.
-- CertificateIndexesIT checks that the remaining indexes serve those lookups.
alter table certificate drop constraint if exists certificate_issuer_id_serial_key;
drop index if exists certificate_device_idx;
