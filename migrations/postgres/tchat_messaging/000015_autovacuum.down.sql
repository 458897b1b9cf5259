ALTER TABLE outbox RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold);
ALTER TABLE messages RESET (autovacuum_vacuum_insert_scale_factor, autovacuum_vacuum_insert_threshold,
                            autovacuum_analyze_scale_factor);
