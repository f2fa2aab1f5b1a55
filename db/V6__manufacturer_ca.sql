-- IDevID enrollment (IEEE 802.1AR style): a device's factory certificate, issued by a
-- manufacturer CA the operator registered, authorises its first operational certificate.

create table manufacturer_ca (
    id               bigserial    primary key,
    name             varchar(100) not null,
    subject_dn       text         not null,
    certificate_der  bytea        not null,
    sha256           varchar(64)  not null,            -- hex SHA-256 of certificate_der
    not_after        timestamptz  not null,
    profile          varchar(64)  not null,            -- the profile of the operational certificates
    device_id_prefix varchar(32)  not null default '', -- prepended to the factory certificate's serialNumber/CN
    device_id_attribute varchar(16) not null default 'serialNumber'
                     check (device_id_attribute in ('serialNumber', 'commonName')),
    created_at       timestamptz  not null,
    created_by       varchar(120) not null,
    removed_at       timestamptz,                      -- removed CAs authorise nothing; kept for the record
    removed_by       varchar(120)
);
create unique index manufacturer_ca_sha256_current on manufacturer_ca (sha256) where removed_at is null;
create unique index manufacturer_ca_name_current on manufacturer_ca (name) where removed_at is null;
-- Device ids of different manufacturers never collide: each current CA has its own prefix.
create unique index manufacturer_ca_prefix_current on manufacturer_ca (device_id_prefix) where removed_at is null;

-- One operational enrollment per factory certificate and per device id: afterwards the device
-- renews with its operational certificate.
create table idevid_enrollment (
    idevid_sha256      varchar(64)  primary key,       -- hex SHA-256 of the factory certificate's DER
    manufacturer_ca_id bigint       not null references manufacturer_ca (id),
    idevid_subject     text         not null,
    idevid_serial      varchar(64)  not null,          -- hex serial of the factory certificate
    device_id          varchar(64)  not null unique,
    certificate_id     bigint       not null references certificate (id),
    enrolled_at        timestamptz  not null
);
