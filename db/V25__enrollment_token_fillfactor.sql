-- An enrollment consumes its token in the statement that stores the certificate (used_at and
-- certificate_id set). No index reads those columns, so the update can be a HOT update, but only
-- when the token's page has room for the row's new version: tokens are written in batches into
-- full pages, and two updates in three were not HOT (pg_stat_user_tables, bench/README.md), each
-- then adding an entry to all four of the table's indexes. Room on the page as for certificate
-- (V2); it applies to pages written from now on, which is where the tokens to be used are.
alter table enrollment_token set (fillfactor = 70);
