-- Autovacuum settings of the append-heavy tables (issue 22; the reasoning and the
-- sizes in docs/operations/data-scale.md, "Autovacuum of the append-heavy tables").
--
-- With PostgreSQL's defaults an insert-driven vacuum of a table starts after
-- 20 % new rows (autovacuum_vacuum_insert_scale_factor = 0.2) and an ANALYZE after
-- 10 %: at 20,000,000 messages that is 4,000,000 new rows before the newest pages
-- are made all-visible and frozen (one large pass instead of many small ones, and
-- index-only scans fetch heap pages until then) and 2,000,000 before the
-- statistics know the newest seq and change_xid, which are the ones sync and the
-- first history pages read. 1 % (plus a fixed 100,000 rows, so that a small table
-- is not vacuumed for every few hundred rows) keeps both to ~200,000 rows at that
-- size; an ANALYZE samples a fixed number of rows, so it costs the same.
ALTER TABLE messages SET (autovacuum_vacuum_insert_scale_factor = 0.01,
                          autovacuum_vacuum_insert_threshold = 100000,
                          autovacuum_analyze_scale_factor = 0.01);

-- Every outbox row is updated once (published) and deleted soon after: it is all
-- dead rows. The default (20 % of the table dead) lets a busy outbox's dead rows
-- pile up between passes while the relay reads its head again and again.
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0.01,
                        autovacuum_vacuum_threshold = 1000);
