-- Part 2 issuance: fee payments (R-6.5) and issued certificates (R-6.6).
-- Keep in step with ../sqlite/0004_issuance.sql.

CREATE TABLE payments (
    id           BIGSERIAL PRIMARY KEY,
    candidate_id BIGINT NOT NULL REFERENCES candidates(id),
    kind         TEXT NOT NULL,
    amount_rial  BIGINT NOT NULL,
    reference    TEXT NOT NULL UNIQUE,
    source       TEXT NOT NULL,
    recorded_by  BIGINT REFERENCES users(id),
    created_at   TEXT NOT NULL
);
CREATE INDEX payments_candidate ON payments(candidate_id);

CREATE TABLE certificates (
    id           BIGSERIAL PRIMARY KEY,
    candidate_id BIGINT NOT NULL UNIQUE REFERENCES candidates(id),
    number       TEXT NOT NULL UNIQUE,
    province_id  BIGINT NOT NULL REFERENCES provinces(id),
    issued_year  BIGINT NOT NULL,
    final_score  BIGINT NOT NULL,
    issued_on    TEXT NOT NULL,
    issued_by    BIGINT NOT NULL REFERENCES users(id),
    status       TEXT NOT NULL
);
CREATE INDEX certificates_province_year ON certificates(province_id, issued_year);
