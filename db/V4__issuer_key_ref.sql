-- Where each issuer's key lives, as the signer that registered it names it (for example
-- 'pkcs11:token=ca-token;object=trent-ca' or 'keystore:/var/lib/trent/ca/intermediate.p12#trent-ca').
-- Lets a PKCS#11 deployment start degraded (token unreachable) with the chain it last used.
alter table issuer add column key_ref text;
create index issuer_key_ref on issuer (key_ref);
