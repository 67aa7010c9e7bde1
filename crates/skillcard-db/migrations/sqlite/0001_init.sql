-- skillcard schema, SQLite flavour. Keep in step with ../postgres/0001_init.sql: same tables,
-- same columns, same meaning; only types and identity columns differ.
-- Times are RFC 3339 UTC text; dates are ISO 'YYYY-MM-DD' (Gregorian, shown as Solar Hijri).

CREATE TABLE provinces (
    id      INTEGER PRIMARY KEY,
    code    TEXT NOT NULL UNIQUE,
    name_fa TEXT NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    full_name     TEXT NOT NULL,
    title         TEXT NOT NULL,
    role          TEXT NOT NULL,
    province_id   INTEGER REFERENCES provinces(id),
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    label      TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE shipments (
    id              INTEGER PRIMARY KEY,
    province_id     INTEGER NOT NULL REFERENCES provinces(id),
    ref_no          TEXT NOT NULL,
    declared_count  INTEGER NOT NULL,
    carrier         TEXT NOT NULL,
    sent_on         TEXT NOT NULL,
    sent_by         INTEGER NOT NULL REFERENCES users(id),
    status          TEXT NOT NULL,
    received_on     TEXT,
    received_by     INTEGER REFERENCES users(id),
    received_count  INTEGER,
    missing_count   INTEGER,
    damaged_count   INTEGER,
    deliverer_name  TEXT,
    deliverer_title TEXT,
    receiver_name   TEXT,
    receiver_title  TEXT,
    remarks         TEXT
);
CREATE INDEX shipments_province ON shipments(province_id, id);

-- kind: 'shipped' (what HQ sent), 'missing', 'damaged' (recorded on receipt).
CREATE TABLE shipment_ranges (
    shipment_id INTEGER NOT NULL REFERENCES shipments(id),
    kind        TEXT NOT NULL,
    first       INTEGER NOT NULL,
    last        INTEGER NOT NULL,
    PRIMARY KEY (shipment_id, kind, first)
);
CREATE INDEX shipment_ranges_span ON shipment_ranges(first, last);

-- One row per serial ever shipped: the card's one state.
CREATE TABLE cards (
    serial      INTEGER PRIMARY KEY,
    province_id INTEGER NOT NULL REFERENCES provinces(id),
    shipment_id INTEGER NOT NULL REFERENCES shipments(id),
    state       TEXT NOT NULL,
    handover_id INTEGER,
    issued_at   TEXT
);
CREATE INDEX cards_province_state ON cards(province_id, state, serial);

CREATE TABLE receipt_notices (
    shipment_id  INTEGER PRIMARY KEY REFERENCES shipments(id),
    letter_no    TEXT NOT NULL,
    letter_date  TEXT NOT NULL,
    signer_name  TEXT NOT NULL,
    signer_title TEXT NOT NULL,
    created_by   INTEGER NOT NULL REFERENCES users(id),
    created_at   TEXT NOT NULL
);

-- The vault ledger's source: every range moved into or out of a province's vault.
CREATE TABLE vault_movements (
    id          INTEGER PRIMARY KEY,
    province_id INTEGER NOT NULL REFERENCES provinces(id),
    moved_on    TEXT NOT NULL,
    direction   TEXT NOT NULL,
    first       INTEGER NOT NULL,
    last        INTEGER NOT NULL,
    source      TEXT NOT NULL,
    source_id   INTEGER NOT NULL
);
CREATE INDEX vault_movements_province ON vault_movements(province_id, moved_on, id);

CREATE TABLE vault_inspections (
    id            INTEGER PRIMARY KEY,
    province_id   INTEGER NOT NULL REFERENCES provinces(id),
    inspected_at  TEXT NOT NULL,
    temperature_c REAL NOT NULL,
    humidity_pct  REAL NOT NULL,
    checklist     TEXT NOT NULL,
    flags         TEXT NOT NULL,
    flagged       INTEGER NOT NULL,
    notes         TEXT NOT NULL,
    inspector_id  INTEGER NOT NULL REFERENCES users(id)
);
CREATE INDEX vault_inspections_province ON vault_inspections(province_id, id);

CREATE TABLE request_baselines (
    province_id   INTEGER PRIMARY KEY REFERENCES provinces(id),
    monthly       INTEGER NOT NULL,
    through_month INTEGER NOT NULL,
    set_by        INTEGER NOT NULL REFERENCES users(id),
    set_at        TEXT NOT NULL
);

CREATE TABLE request_overrides (
    id          INTEGER PRIMARY KEY,
    province_id INTEGER NOT NULL REFERENCES provinces(id),
    month       INTEGER NOT NULL,
    max_count   INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    UNIQUE (province_id, month)
);

CREATE TABLE monthly_requests (
    id             INTEGER PRIMARY KEY,
    province_id    INTEGER NOT NULL REFERENCES provinces(id),
    month          INTEGER NOT NULL,
    count          INTEGER NOT NULL,
    cap            INTEGER NOT NULL,
    cap_basis      TEXT NOT NULL,
    representative TEXT NOT NULL,
    requested_on   TEXT NOT NULL,
    requested_by   INTEGER NOT NULL REFERENCES users(id),
    handed_count   INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL,
    UNIQUE (province_id, month)
);

CREATE TABLE handovers (
    id              INTEGER PRIMARY KEY,
    request_id      INTEGER NOT NULL REFERENCES monthly_requests(id),
    province_id     INTEGER NOT NULL REFERENCES provinces(id),
    letter_no       TEXT NOT NULL,
    handed_on       TEXT NOT NULL,
    count           INTEGER NOT NULL,
    deliverer_name  TEXT NOT NULL,
    deliverer_title TEXT NOT NULL,
    receiver_name   TEXT NOT NULL,
    receiver_title  TEXT NOT NULL,
    remarks         TEXT NOT NULL,
    created_by      INTEGER NOT NULL REFERENCES users(id)
);

CREATE TABLE handover_ranges (
    handover_id INTEGER NOT NULL REFERENCES handovers(id),
    first       INTEGER NOT NULL,
    last        INTEGER NOT NULL,
    PRIMARY KEY (handover_id, first)
);

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    INTEGER,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    province_id INTEGER,
    before      TEXT NOT NULL,
    after       TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_province ON audit_log(province_id, seq);

-- One row: the chain's head. Every write transaction updates it first, which serialises writers
-- on every backend and keeps the chain linear.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
