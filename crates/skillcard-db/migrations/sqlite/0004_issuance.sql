-- Part 2 issuance: fee payments (R-6.5) and issued certificates (R-6.6).
-- Keep in step with ../postgres/0004_issuance.sql.

CREATE TABLE payments (
    id           INTEGER PRIMARY KEY,
    candidate_id INTEGER NOT NULL REFERENCES candidates(id),
    kind         TEXT NOT NULL,
    amount_rial  INTEGER NOT NULL,
    reference    TEXT NOT NULL UNIQUE,
    source       TEXT NOT NULL,
    recorded_by  INTEGER REFERENCES users(id),
    created_at   TEXT NOT NULL
);
CREATE INDEX payments_candidate ON payments(candidate_id);

CREATE TABLE certificates (
    id           INTEGER PRIMARY KEY,
    candidate_id INTEGER NOT NULL UNIQUE REFERENCES candidates(id),
    number       TEXT NOT NULL UNIQUE,
    province_id  INTEGER NOT NULL REFERENCES provinces(id),
    issued_year  INTEGER NOT NULL,
    final_score  INTEGER NOT NULL,
    issued_on    TEXT NOT NULL,
    issued_by    INTEGER NOT NULL REFERENCES users(id),
    status       TEXT NOT NULL
);
CREATE INDEX certificates_province_year ON certificates(province_id, issued_year);
