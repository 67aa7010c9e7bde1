-- Part 2 printing (R-6.7 – R-6.9): one row per card taken from the office stock for a
-- certificate. The card's state mirrors `status`: printing → bound (registered) | spoiled.
-- Keep in step with ../sqlite/0005_printing.sql.

CREATE TABLE card_prints (
    id               BIGSERIAL PRIMARY KEY,
    certificate_id   BIGINT NOT NULL REFERENCES certificates(id),
    province_id      BIGINT NOT NULL REFERENCES provinces(id),
    -- A serial is taken at most once, ever: a spoiled card is never used again (R-6.7).
    serial           BIGINT NOT NULL UNIQUE REFERENCES cards(serial),
    status           TEXT NOT NULL,
    chip_uid         BYTEA NOT NULL,
    -- The signed credential (COSE_Sign1) written to the chip and printed in the QR.
    credential       BYTEA NOT NULL,
    kid              TEXT NOT NULL,
    inspected_at     TEXT,
    chip_verified_at TEXT,
    spoil_reason     TEXT,
    created_by       BIGINT NOT NULL REFERENCES users(id),
    created_at       TEXT NOT NULL,
    finished_at      TEXT
);
-- At most one live card (in progress or registered) per certificate.
CREATE UNIQUE INDEX card_prints_live ON card_prints(certificate_id) WHERE status IN ('printing', 'bound');
CREATE INDEX card_prints_province_status ON card_prints(province_id, status);
