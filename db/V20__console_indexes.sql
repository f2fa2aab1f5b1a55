-- The console's certificate search filters by device id prefix (LIKE 'abc%'), which a plain
-- b-tree under a non-C collation cannot serve; and a certificate's page lists the audit events
-- about its serial.
create index certificate_device_prefix_idx on certificate (device_id varchar_pattern_ops);
create index audit_event_subject_idx on audit_event (subject, id);
