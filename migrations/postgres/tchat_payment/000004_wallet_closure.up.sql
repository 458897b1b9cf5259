-- Closing a user's wallets when their account is deleted (docs/api/openapi.yaml,
-- POST /v1/wallets/close; docs/operations/account-deletion.md).
--
-- The ledger is kept whole: journal entries, postings, transfers and the closed
-- wallet rows stay (money is never lost or created, and the books must be kept
-- for the regulator). What closes is the wallet: a closed wallet takes no more
-- money in, and no new wallet is opened for its owner.
--
-- Zero-balance rule: wallets close only when every wallet of the user holds
-- exactly zero and no top-up or withdrawal of theirs is still pending (its
-- settlement would move money into or back into the wallet). Otherwise nothing
-- changes and the answer says why; the user withdraws first. Pending payment
-- requests to or from the user are cancelled in the same transaction.

ALTER TABLE accounts ADD COLUMN closed_at timestamptz NULL;

-- Owners whose wallets are closed: also refuses wallets opened later (a first
-- transfer in another currency).
CREATE TABLE closed_wallet_owners (
    user_id   uuid        PRIMARY KEY,
    closed_at timestamptz NOT NULL DEFAULT now()
);

-- A closed wallet's balance may not grow (a transfer that raced the closure
-- fails whole; nothing moves). The WHEN clause keeps the hot path free of a
-- function call for open wallets.
CREATE FUNCTION payment_refuse_closed_wallet() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'wallet % is closed', OLD.id USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER accounts_closed_no_credit BEFORE UPDATE OF balance ON accounts
    FOR EACH ROW WHEN (OLD.closed_at IS NOT NULL AND NEW.balance > OLD.balance)
    EXECUTE FUNCTION payment_refuse_closed_wallet();

CREATE FUNCTION payment_refuse_wallet_of_closed_owner() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Waits for a closure of this owner in progress (payment_close_wallets).
    PERFORM pg_advisory_xact_lock_shared(
        hashtextextended('payment_close_wallets:' || NEW.user_id::text, 0));
    IF EXISTS (SELECT 1 FROM closed_wallet_owners WHERE user_id = NEW.user_id) THEN
        RAISE EXCEPTION 'the wallets of user % are closed', NEW.user_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER accounts_closed_owner_no_new BEFORE INSERT ON accounts
    FOR EACH ROW WHEN (NEW.kind = 'user')
    EXECUTE FUNCTION payment_refuse_wallet_of_closed_owner();

-- No top-up into a closed wallet: its settlement could not be credited, and the
-- provider would hold the customer's money. FOR SHARE waits for a closure in
-- progress (which locks the wallets FOR UPDATE) and lets that closure, in turn,
-- see this top-up as pending when it commits first.
CREATE FUNCTION payment_refuse_topup_of_closed_wallet() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM accounts WHERE id = NEW.account_id AND closed_at IS NOT NULL
               FOR SHARE) THEN
        RAISE EXCEPTION 'wallet % is closed', NEW.account_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER topups_closed_wallet BEFORE INSERT ON topups
    FOR EACH ROW EXECUTE FUNCTION payment_refuse_topup_of_closed_wallet();

-- Closes the wallets of `owner`: 'ok' (also when already closed),
-- 'wallet_not_empty' or 'operation_pending' (nothing changed). The owner's
-- wallets are locked first (id order, as transfers lock them), so a transfer
-- either commits before (and the balance check sees it) or waits and then
-- meets the closed wallet.
CREATE FUNCTION payment_close_wallets(owner uuid) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    -- Serialises two closures of one owner and the opening of a wallet of theirs.
    PERFORM pg_advisory_xact_lock(hashtextextended('payment_close_wallets:' || owner::text, 0));
    PERFORM 1 FROM accounts WHERE kind = 'user' AND user_id = owner ORDER BY id FOR UPDATE;
    IF EXISTS (SELECT 1 FROM accounts WHERE kind = 'user' AND user_id = owner AND balance <> 0) THEN
        RETURN 'wallet_not_empty';
    END IF;
    IF EXISTS (SELECT 1 FROM topups WHERE user_id = owner AND status = 'pending')
       OR EXISTS (SELECT 1 FROM withdrawals WHERE user_id = owner AND status = 'pending') THEN
        RETURN 'operation_pending';
    END IF;
    INSERT INTO closed_wallet_owners (user_id) VALUES (owner) ON CONFLICT DO NOTHING;
    UPDATE accounts SET closed_at = now()
     WHERE kind = 'user' AND user_id = owner AND closed_at IS NULL;
    UPDATE payment_requests SET status = 'cancelled', updated_at = now()
     WHERE status = 'pending' AND (from_user_id = owner OR to_user_id = owner);
    RETURN 'ok';
END $$;
