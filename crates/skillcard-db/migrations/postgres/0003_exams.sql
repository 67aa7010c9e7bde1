-- Part 2 before issuance: reference data, candidates, exam lists and their scores (R-6.1–R-6.4).
-- Keep in step with ../sqlite/0003_exams.sql. Scores are in tenths (0–1000).

CREATE TABLE trades (
    id            BIGSERIAL PRIMARY KEY,
    standard_code TEXT NOT NULL UNIQUE,
    title_fa      TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE centres (
    id          BIGSERIAL PRIMARY KEY,
    province_id BIGINT NOT NULL REFERENCES provinces(id),
    code        TEXT NOT NULL,
    name_fa     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    UNIQUE (province_id, code)
);

-- Versioned: the policy in force is the newest row.
CREATE TABLE pass_policies (
    id                 BIGSERIAL PRIMARY KEY,
    written_min        BIGINT NOT NULL,
    practical_min      BIGINT NOT NULL,
    written_weight_pct BIGINT NOT NULL,
    final_min          BIGINT NOT NULL,
    created_by         BIGINT REFERENCES users(id),
    created_at         TEXT NOT NULL
);
INSERT INTO pass_policies (written_min, practical_min, written_weight_pct, final_min, created_by, created_at)
VALUES (500, 700, 25, 700, NULL, '2026-01-01T00:00:00Z');

-- Versioned per kind ('issuance', 'replacement'): the fee in force is the newest row.
CREATE TABLE fees (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    amount_rial BIGINT NOT NULL,
    created_by  BIGINT NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL
);

CREATE TABLE candidates (
    id            BIGSERIAL PRIMARY KEY,
    province_id   BIGINT NOT NULL REFERENCES provinces(id),
    centre_id     BIGINT NOT NULL REFERENCES centres(id),
    trade_id      BIGINT NOT NULL REFERENCES trades(id),
    national_id   TEXT NOT NULL,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    father_name   TEXT NOT NULL,
    birth_date    TEXT NOT NULL,
    written_score BIGINT NOT NULL,
    photo         BYTEA,
    photo_type    TEXT,
    created_by    BIGINT NOT NULL REFERENCES users(id),
    created_at    TEXT NOT NULL,
    UNIQUE (national_id, trade_id)
);

CREATE TABLE exam_lists (
    id          BIGSERIAL PRIMARY KEY,
    province_id BIGINT NOT NULL REFERENCES provinces(id),
    centre_id   BIGINT NOT NULL REFERENCES centres(id),
    trade_id    BIGINT NOT NULL REFERENCES trades(id),
    exam_date   TEXT NOT NULL,
    status      TEXT NOT NULL,
    remarks     TEXT NOT NULL,
    created_by  BIGINT NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL
);
CREATE INDEX exam_lists_province ON exam_lists(province_id, id);

CREATE TABLE exam_entries (
    id              BIGSERIAL PRIMARY KEY,
    list_id         BIGINT NOT NULL REFERENCES exam_lists(id),
    candidate_id    BIGINT NOT NULL UNIQUE REFERENCES candidates(id),
    practical_score BIGINT,
    decision        TEXT NOT NULL,
    reason          TEXT NOT NULL,
    decided_by      BIGINT REFERENCES users(id),
    decided_at      TEXT
);
CREATE INDEX exam_entries_list ON exam_entries(list_id, id);
