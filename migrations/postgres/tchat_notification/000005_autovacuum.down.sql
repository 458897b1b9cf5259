ALTER TABLE delivery_queue RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold);
ALTER TABLE notifications RESET (autovacuum_vacuum_insert_scale_factor, autovacuum_vacuum_insert_threshold,
                                 autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold,
                                 autovacuum_analyze_scale_factor);
