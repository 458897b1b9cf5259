-- Autovacuum settings of the ledger's append-only tables and the outbox (issue 22;
-- docs/operations/data-scale.md, "Autovacuum of the append-heavy tables").
--
-- postings, journal_entries and transfers only grow (10,000,000 postings for
-- 5,000,000 transfers at the benchmark's 100 %). With the defaults an
-- insert-driven vacuum starts after 20 % new rows and an ANALYZE after 10 %:
-- 2,000,000 postings before the newest pages are all-visible and frozen, and
-- 1,000,000 before the statistics know the newest ids, which the transaction
-- history's first page reads. 1 % plus a fixed 100,000 rows keeps it to ~200,000.
ALTER TABLE postings SET (autovacuum_vacuum_insert_scale_factor = 0.01,
                          autovacuum_vacuum_insert_threshold = 100000,
                          autovacuum_analyze_scale_factor = 0.01);
ALTER TABLE journal_entries SET (autovacuum_vacuum_insert_scale_factor = 0.01,
                                 autovacuum_vacuum_insert_threshold = 100000,
                                 autovacuum_analyze_scale_factor = 0.01);
ALTER TABLE transfers SET (autovacuum_vacuum_insert_scale_factor = 0.01,
                           autovacuum_vacuum_insert_threshold = 100000,
                           autovacuum_analyze_scale_factor = 0.01);

-- Every outbox row is updated once (published) and deleted soon after: it is all
-- dead rows, so a pass after 1 % dead (plus 1,000) instead of 20 %.
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0.01,
                        autovacuum_vacuum_threshold = 1000);
