-- Reads scoped to a viewer look up each relationship's links by the
-- relationship's seq (are its ends visible?), and TAXII collections page
-- one audience in seq order; both need their own index.
CREATE INDEX refs_seq ON refs (seq);
CREATE INDEX objects_audience ON objects (aud_kind, aud_group, seq);
