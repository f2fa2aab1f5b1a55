-- Delegated OCSP responders (RFC 6960 4.2.2.2), persisted so that OCSP keeps answering for an
-- issuer whose key is gone (a retired issuer after its key left the container) while one of
-- its responder certificates is valid. The private key is sealed (AES-256-GCM, the key in
-- trent.ocsp.responder-seal-key-file, never in the database) with the issuer id and the
-- certificate's serial as associated data, so a sealed key cannot be moved to another row.
create table ocsp_responder (
    id              bigserial    primary key,
    issuer_id       varchar(64)  not null references issuer (id),
    serial          varchar(42)  not null,              -- hex, as in certificate.serial
    certificate_der bytea        not null,
    not_before      timestamptz  not null,
    not_after       timestamptz  not null,
    key_sealed      bytea        not null,              -- PKCS#8, sealed
    seal_key_id     varchar(16)  not null,              -- which sealing key (first 16 hex of its SHA-256)
    created_at      timestamptz  not null,
    unique (issuer_id, serial)
);
create index ocsp_responder_issuer_idx on ocsp_responder (issuer_id, not_after);
