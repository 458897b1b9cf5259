-- Back to 000010: the default statistics target for messages.search_terms. The
-- search then estimates every word outside the shorter list at its floor and
-- takes the keys plan for more of them; it finds the same rows.

ALTER TABLE messages ALTER COLUMN search_terms SET STATISTICS -1;
