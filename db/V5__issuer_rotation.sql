-- Issuer rotation: exactly one issuer is ACTIVE (signs new certificates); RETIRED ones keep
-- publishing CRLs and answering OCSP for what they issued while it is unexpired.
alter table issuer add column state text not null default 'RETIRED'
    check (state in ('ACTIVE', 'RETIRED'));
alter table issuer add column activated_at timestamptz;
-- The key's label (PKCS#11 CKA_LABEL, or keystore alias) in the container Trent is configured
-- with, so that every instance can load the key of an issuer another instance activated.
alter table issuer add column key_label text;
create unique index issuer_one_active on issuer ((true)) where state = 'ACTIVE';

-- Before rotation existed, the newest issuer was the one in use.
update issuer set state = 'ACTIVE', activated_at = created_at
 where id = (select id from issuer order by created_at desc limit 1);
