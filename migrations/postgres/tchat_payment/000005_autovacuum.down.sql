ALTER TABLE outbox RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold);
ALTER TABLE transfers RESET (autovacuum_vacuum_insert_scale_factor, autovacuum_vacuum_insert_threshold,
                             autovacuum_analyze_scale_factor);
ALTER TABLE journal_entries RESET (autovacuum_vacuum_insert_scale_factor,
                                   autovacuum_vacuum_insert_threshold, autovacuum_analyze_scale_factor);
ALTER TABLE postings RESET (autovacuum_vacuum_insert_scale_factor, autovacuum_vacuum_insert_threshold,
                            autovacuum_analyze_scale_factor);
