-- Tamper-evident audit log. Every audit_event joins a hash chain (audit_chain: seq 1, 2, 3, ...
-- without gaps, prev_hash, hash), and the application periodically signs the chain's head with
-- the CA key (audit_checkpoint).
--
-- hash(n) = SHA-256(hash(n-1) || canonical(event n)), hash(0) = 32 zero bytes, where
-- canonical(e) = UTF-8 of jsonb_build_array(e.id, microseconds since the epoch of
-- e.occurred_at, e.actor, e.action, e.subject, e.details)::text. The verifier (API and CLI)
-- recomputes it from the stored rows, so that editing any field of any event, or removing or
-- inserting one, breaks the chain at that event.
--
-- Events are chained after they commit, by audit_chain_seal() (the application calls it every
-- 250 ms; one caller at a time), not inside the transaction that records them: chaining at
-- commit would serialise every audited commit behind one lock, held through the WAL flush, and
-- cost enrollment throughput (measured: bench/README.md). Each event records the transaction
-- that inserted it (txid); the sealer takes only events of transactions older than every
-- transaction still running (the snapshot's xmin), in (txid, id) order, so an event that
-- commits late can never be skipped.

lock table audit_event in share row exclusive mode;

alter table audit_event add column txid bigint;
alter table audit_event alter column txid set default txid_current();
create index audit_event_txid_idx on audit_event (txid, id);

create function audit_canonical(e audit_event) returns bytea language sql immutable as $$
    select convert_to(jsonb_build_array(e.id, (extract(epoch from e.occurred_at) * 1000000)::bigint, e.actor,
                                        e.action, e.subject, e.details)::text, 'UTF8')
$$;

create table audit_chain (
    seq        bigint primary key,
    event_id   bigint not null,
    txid       bigint not null,                     -- the event's, so the head says where sealing stands
    prev_hash  bytea  not null check (length(prev_hash) = 32),
    hash       bytea  not null check (length(hash) = 32)
);

create table audit_checkpoint (
    id                  bigserial   primary key,
    seq                 bigint      not null references audit_chain (seq),
    hash                bytea       not null,
    created_at          timestamptz not null,
    issuer_id           varchar(64) not null,
    signature_algorithm varchar(64) not null,   -- OID of the signature algorithm
    signature           bytea       not null,   -- over the checkpoint message (AuditVerifier)
    signer_certificate  bytea       not null    -- the issuer certificate whose key signed
);

-- Events recorded before this migration (txid null): chained now, in id order, as txid 0.
do $$
declare
    e audit_event;
    n bigint := 0;
    h bytea := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    next_hash bytea;
begin
    for e in select * from audit_event order by id loop
        n := n + 1;
        next_hash := sha256(h || audit_canonical(e));
        insert into audit_chain (seq, event_id, txid, prev_hash, hash) values (n, e.id, 0, h, next_hash);
        h := next_hash;
    end loop;
end;
$$;

-- Chains committed events, at most max_events of them, and returns how many. Only events of
-- transactions older than every transaction still running are taken (they are all visible
-- now, and no other event of such a transaction can appear later), in (txid, id) order after
-- the head. One sealer at a time (an advisory lock; a second caller returns 0 at once).
--
-- SECURITY DEFINER: it runs as the schema owner, so the application's role may call it but has
-- no INSERT on audit_chain, and cannot append entries of its own making.
create function audit_chain_seal(max_events integer) returns integer language plpgsql security definer as $$
declare
    head_seq   bigint;
    head_hash  bytea;
    head_txid  bigint;
    head_event bigint;
    horizon    bigint := txid_snapshot_xmin(txid_current_snapshot());
    e          audit_event;
    prev       bytea;
    n          integer := 0;
begin
    if not pg_try_advisory_xact_lock(7303711) then
        return 0;
    end if;
    select seq, hash, txid, event_id into head_seq, head_hash, head_txid, head_event
      from audit_chain order by seq desc limit 1;
    if head_seq is null then
        head_seq := 0;
        head_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
        head_txid := 0;
        head_event := 0;
    end if;
    for e in select * from audit_event
              where txid < horizon and (txid > head_txid or (txid = head_txid and id > head_event))
              order by txid, id limit max_events loop
        head_seq := head_seq + 1;
        prev := head_hash;
        head_hash := sha256(prev || audit_canonical(e));
        insert into audit_chain (seq, event_id, txid, prev_hash, hash) values (head_seq, e.id, e.txid, prev, head_hash);
        n := n + 1;
    end loop;
    return n;
end;
$$;

do $$
begin
    execute format('alter function audit_chain_seal(integer) set search_path = %I, pg_temp', current_schema());
    execute format('alter function audit_canonical(audit_event) set search_path = %I, pg_temp', current_schema());
end;
$$;

-- Chain and checkpoints are append-only, like the events (V1's function refuses the change).
create trigger audit_chain_no_update_delete before update or delete on audit_chain
    for each row execute function audit_event_immutable();
create trigger audit_chain_no_truncate before truncate on audit_chain
    for each statement execute function audit_event_immutable();
create trigger audit_checkpoint_no_update_delete before update or delete on audit_checkpoint
    for each row execute function audit_event_immutable();
create trigger audit_checkpoint_no_truncate before truncate on audit_checkpoint
    for each statement execute function audit_event_immutable();

-- The role the application should run as in production (README, "Database roles"): it may read
-- and append events and checkpoints, and seal the chain through audit_chain_seal(), but never
-- change or remove a row, even with the triggers disabled; the schema owner (Flyway's user)
-- keeps everything else. Created only where the migrating user may create roles; grant it to
-- the application's login role.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'trent_app') then
        create role trent_app nologin;
    end if;
exception when insufficient_privilege then
    raise notice 'trent_app not created (no CREATEROLE); create it and re-run the grants of V7 by hand';
end;
$$;

do $$
declare
    schema text := quote_ident(current_schema());
begin
    if exists (select 1 from pg_roles where rolname = 'trent_app') then
        execute 'grant usage on schema ' || schema || ' to trent_app';
        execute 'grant select, insert, update, delete on all tables in schema ' || schema || ' to trent_app';
        execute 'grant usage, select on all sequences in schema ' || schema || ' to trent_app';
        -- The audit tables: read and append events and checkpoints; the chain is written by
        -- audit_chain_seal() alone.
        execute 'revoke update, delete, truncate on audit_event, audit_checkpoint from trent_app';
        execute 'revoke insert, update, delete, truncate on audit_chain from trent_app';
        execute 'grant execute on function audit_chain_seal(integer) to trent_app';
        -- Flyway's own history is the owner's.
        if to_regclass('flyway_schema_history') is not null then
            execute 'revoke insert, update, delete, truncate on flyway_schema_history from trent_app';
        end if;
        -- Tables and sequences that later migrations create (as this same owner) are granted
        -- alike; a migration that adds an append-only table revokes what it must.
        execute 'alter default privileges in schema ' || schema
                || ' grant select, insert, update, delete on tables to trent_app';
        execute 'alter default privileges in schema ' || schema || ' grant usage, select on sequences to trent_app';
    end if;
end;
$$;
