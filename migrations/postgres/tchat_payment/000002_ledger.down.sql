DROP FUNCTION IF EXISTS payment_post_transfers(jsonb);
DROP FUNCTION IF EXISTS payment_apply_transfer(payment_transfer_item, boolean);
DROP FUNCTION IF EXISTS payment_post_entry(uuid, text, uuid, bigint, bigint, bigint, text, uuid,
                                           uuid, timestamptz, boolean, date, date, bigint, bigint);
DROP TYPE IF EXISTS payment_transfer_item;
DROP TABLE IF EXISTS psp_events;
DROP TABLE IF EXISTS withdrawals;
DROP TABLE IF EXISTS topups;
DROP TABLE IF EXISTS payment_requests;
DROP TABLE IF EXISTS idempotency_keys;
DROP TABLE IF EXISTS transfers;
DROP TABLE IF EXISTS postings;
DROP TABLE IF EXISTS journal_entries;
DROP FUNCTION IF EXISTS payment_append_only();
DROP FUNCTION IF EXISTS payment_postings_balanced();
DROP TABLE IF EXISTS accounts;
DROP TABLE IF EXISTS currencies;
