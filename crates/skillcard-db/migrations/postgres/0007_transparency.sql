-- The transparency log (RFC 9162-style Merkle tree): one leaf per issuance, reissue, damage or
-- void of a card, appended in the same transaction as the change. Keep in step with the other
-- backend's 0007_transparency.sql.

-- The leaves. `entry` is the leaf's exact bytes (JSON naming the card by its credential's
-- SHA-256); `print_id` ties it back to the card for `skillcard check`, and is not published.
CREATE TABLE log_entries (
    idx               BIGINT PRIMARY KEY,
    event             TEXT NOT NULL,
    credential_sha256 TEXT NOT NULL,
    print_id          BIGINT NOT NULL REFERENCES card_prints(id),
    entry             TEXT NOT NULL,
    logged_at         TEXT NOT NULL
);
CREATE INDEX log_entries_credential ON log_entries(credential_sha256);
CREATE INDEX log_entries_out_of_service ON log_entries(event) WHERE event IN ('damaged', 'void');

-- The hashes of the perfect subtrees (2^level leaves from idx·2^level), written as they
-- complete, so that a root or a proof reads O(log n) rows.
CREATE TABLE log_nodes (
    level BIGINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  TEXT NOT NULL,
    PRIMARY KEY (level, idx)
);
