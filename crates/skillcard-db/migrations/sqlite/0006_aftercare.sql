-- Part 3 (R-5.4, R-7, R-8, R-9, Notes 3–4): delivery lists, damage and replacement cases, and
-- the outbox of notices to applicants. Keep in step with ../postgres/0006_aftercare.sql.

-- A handover list (Form 5): registered cards grouped by centre or by hand.
CREATE TABLE delivery_lists (
    id          INTEGER PRIMARY KEY,
    province_id INTEGER NOT NULL REFERENCES provinces(id),
    label       TEXT NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    -- The scan of the signed Form 5 (R-7.1).
    scan        BLOB,
    scan_type   TEXT,
    scan_at     TEXT
);
CREATE INDEX delivery_lists_province ON delivery_lists(province_id, id);

-- The day of registration (Tehran) starts R-5.4's week; delivery ends it.
ALTER TABLE card_prints ADD COLUMN registered_on TEXT;
ALTER TABLE card_prints ADD COLUMN delivery_list_id INTEGER REFERENCES delivery_lists(id);
ALTER TABLE card_prints ADD COLUMN delivered_at TEXT;
ALTER TABLE card_prints ADD COLUMN delivery_method TEXT;
ALTER TABLE card_prints ADD COLUMN receiver TEXT;
ALTER TABLE card_prints ADD COLUMN tracking_no TEXT;
ALTER TABLE card_prints ADD COLUMN delivered_by INTEGER REFERENCES users(id);
ALTER TABLE card_prints ADD COLUMN overdue_notified_at TEXT;
UPDATE card_prints SET registered_on = (SELECT issued_at FROM cards WHERE cards.serial = card_prints.serial)
    WHERE status = 'bound';
-- The overdue view (R-5.4) reads only registered, undelivered cards. `status` and `delivered_at`
-- are the same in every entry; they are listed so that SQLite, like PostgreSQL, can answer the
-- view from the index alone (a covering index) instead of reading each card's row.
CREATE INDEX card_prints_undelivered ON card_prints(province_id, registered_on, status, delivered_at)
    WHERE status = 'bound' AND delivered_at IS NULL;
CREATE INDEX card_prints_list ON card_prints(delivery_list_id) WHERE delivery_list_id IS NOT NULL;

-- How to reach the applicant (mobile number or e-mail); not printed on the card.
ALTER TABLE candidates ADD COLUMN contact TEXT;

-- A damage case (R-8, Form 6) or a replacement request (R-9, Note 4).
CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    province_id     INTEGER NOT NULL REFERENCES provinces(id),
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    -- Replacement: the holder's reason, the requested corrections (JSON) and the scan.
    reason          TEXT,
    corrections     TEXT,
    request_scan    BLOB,
    request_scan_type TEXT,
    -- Replacement: the board's decision.
    decision_reason TEXT,
    decided_by      INTEGER REFERENCES users(id),
    decided_at      TEXT,
    -- Damage: the review of the minutes (Form 6).
    reviewed_by     INTEGER REFERENCES users(id),
    reviewed_at     TEXT,
    -- Replacement: the fee.
    fee_amount      INTEGER,
    fee_reference   TEXT,
    paid_at         TEXT,
    -- R-8.1.1: the Director General's letter, with the scan of the signed minutes.
    letter_no       TEXT,
    letter_date     TEXT,
    minutes_scan    BLOB,
    minutes_scan_type TEXT,
    sent_by         INTEGER REFERENCES users(id),
    sent_at         TEXT,
    received_by     INTEGER REFERENCES users(id),
    received_at     TEXT,
    -- R-8.1.2: HQ's authorisation to reprint.
    authorized_by   INTEGER REFERENCES users(id),
    authorized_at   TEXT,
    created_by      INTEGER NOT NULL REFERENCES users(id),
    created_at      TEXT NOT NULL
);
CREATE INDEX cases_province_status ON cases(province_id, status);

-- The cards of a case. `reprint_print_id` is the card registered on the case's authorisation:
-- set once, so one authorisation yields one reprint.
CREATE TABLE case_items (
    case_id          INTEGER NOT NULL REFERENCES cases(id),
    print_id         INTEGER NOT NULL REFERENCES card_prints(id),
    certificate_id   INTEGER NOT NULL REFERENCES certificates(id),
    cause            TEXT,
    cause_detail     TEXT,
    outcome          TEXT,
    reprint_print_id INTEGER UNIQUE REFERENCES card_prints(id),
    PRIMARY KEY (case_id, print_id)
);
CREATE INDEX case_items_certificate ON case_items(certificate_id);
CREATE INDEX case_items_print ON case_items(print_id);

-- The outbox of notices to applicants, sent by a pluggable sender with retries.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    province_id     INTEGER NOT NULL REFERENCES provinces(id),
    candidate_id    INTEGER NOT NULL REFERENCES candidates(id),
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX notifications_due ON notifications(status, next_attempt_at);
