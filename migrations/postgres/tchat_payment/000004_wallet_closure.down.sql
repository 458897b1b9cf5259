DROP TRIGGER IF EXISTS topups_closed_wallet ON topups;
DROP FUNCTION IF EXISTS payment_refuse_topup_of_closed_wallet();
DROP FUNCTION IF EXISTS payment_close_wallets(uuid);
DROP TRIGGER IF EXISTS accounts_closed_owner_no_new ON accounts;
DROP FUNCTION IF EXISTS payment_refuse_wallet_of_closed_owner();
DROP TRIGGER IF EXISTS accounts_closed_no_credit ON accounts;
DROP FUNCTION IF EXISTS payment_refuse_closed_wallet();
DROP TABLE IF EXISTS closed_wallet_owners;
ALTER TABLE accounts DROP COLUMN IF EXISTS closed_at;
