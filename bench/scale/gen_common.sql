-- Helpers of the scale generator (bench/scale_bench.sh), created in each service
-- database under the schema scale_gen and dropped again by its last step. Nothing
-- of it is used by the services.
CREATE SCHEMA IF NOT EXISTS scale_gen;

-- User i, conversation j: fixed UUIDs (version 7 layout), so that the load client
-- finds the same people and conversations without asking the database.
CREATE OR REPLACE FUNCTION scale_gen.uid(i bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid $$;
CREATE OR REPLACE FUNCTION scale_gen.cid(j bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ('00000001-0000-7000-8000-' || lpad(to_hex(j), 12, '0'))::uuid $$;
-- A UUIDv7 of time t (its milliseconds first, as the services' ids) made unique by
-- (tag, k): ids of one table ascend with time, as the services' do.
CREATE OR REPLACE FUNCTION scale_gen.uuid7(t timestamptz, tag int, k bigint) RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE AS $$  -- STABLE as extract(): inlined into the caller
    SELECT (lpad(to_hex(floor(extract(epoch FROM t) * 1000)::bigint), 12, '0') || '7'
            || lpad(to_hex(tag), 3, '0') || '8' || lpad(to_hex((k >> 48) & 4095), 3, '0')
            || lpad(to_hex(k & 281474976710655), 12, '0'))::uuid $$;
-- A uniform number in [0, 1) from (k, salt): the generator's only randomness, so a
-- rerun of a step writes the same rows.
CREATE OR REPLACE FUNCTION scale_gen.u(k bigint, salt int) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ((hashint8(k * 1000003 + salt)::bigint & 2147483647)::float8) / 2147483648.0 $$;
-- A whole number in [0, n) from (k, salt).
CREATE OR REPLACE FUNCTION scale_gen.r(k bigint, salt int, n bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (hashint8(k * 1000003 + salt)::bigint & 2147483647) % n $$;

-- Bulk loading: a table's indexes and primary/unique constraints are dropped
-- before the load and built again after it (one sort per index instead of one
-- random insertion per row); their definitions are kept here meanwhile, so a
-- resumed run restores exactly what the migrations made. Constraints that a
-- foreign key depends on stay.
CREATE TABLE IF NOT EXISTS scale_gen.saved_index (
    tbl  text NOT NULL,
    name text NOT NULL,
    def  text NOT NULL,
    is_constraint boolean NOT NULL,
    PRIMARY KEY (tbl, name)
);

CREATE OR REPLACE PROCEDURE scale_gen.drop_indexes(t text)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF EXISTS (SELECT 1 FROM scale_gen.saved_index WHERE tbl = t) THEN
        RETURN;  -- already dropped by an earlier (interrupted) run
    END IF;
    FOR r IN
        SELECT c.conname AS name, pg_get_constraintdef(c.oid) AS def
          FROM pg_constraint c
         WHERE c.conrelid = t::regclass AND c.contype IN ('p', 'u')
           AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                            WHERE f.contype = 'f' AND f.conindid = c.conindid)
    LOOP
        INSERT INTO scale_gen.saved_index VALUES (t, r.name, r.def, true);
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, r.name);
    END LOOP;
    FOR r IN
        SELECT i.indexname AS name, i.indexdef AS def
          FROM pg_indexes i
         WHERE i.schemaname = 'public' AND i.tablename = t
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                            WHERE c.conrelid = t::regclass AND c.conname = i.indexname)
    LOOP
        INSERT INTO scale_gen.saved_index VALUES (t, r.name, r.def, false);
        EXECUTE format('DROP INDEX %I', r.name);
    END LOOP;
END $$;

CREATE OR REPLACE PROCEDURE scale_gen.restore_indexes(t text)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM scale_gen.saved_index WHERE tbl = t ORDER BY is_constraint DESC, name
    LOOP
        IF r.is_constraint THEN
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', t, r.name, r.def);
        ELSE
            EXECUTE r.def;
        END IF;
    END LOOP;
    DELETE FROM scale_gen.saved_index WHERE tbl = t;
END $$;
