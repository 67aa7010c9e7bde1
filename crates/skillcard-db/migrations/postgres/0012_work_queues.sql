-- The clerk's work queues as markers on the rows they are about (db/queues.rs), so a dashboard
-- seeks a partial index of what is actionable instead of anti-joining every candidate and
-- certificate. Written by the core's rules in each change's transaction; `skillcard check`
-- recomputes them. Keep in step with ../sqlite/0012_work_queues.sql.

-- Approved, passing scores and no certificate yet (R-6.4 → R-6.6).
ALTER TABLE candidates ADD COLUMN certificate_due BIGINT NOT NULL DEFAULT 0
    CHECK (certificate_due IN (0, 1));
-- May start a print now (R-6.8; after a damaged or voided card, on HQ's authorisation, R-8.1.2).
ALTER TABLE certificates ADD COLUMN card_due BIGINT NOT NULL DEFAULT 0
    CHECK (card_due IN (0, 1));

UPDATE candidates AS k SET certificate_due = 1
WHERE EXISTS (SELECT 1 FROM exam_entries e, pass_policies p
              WHERE e.candidate_id = k.id AND p.id = (SELECT MAX(id) FROM pass_policies)
              AND e.decision = 'approved' AND e.practical_score IS NOT NULL
              AND k.written_score >= p.written_min AND e.practical_score >= p.practical_min
              AND (k.written_score * p.written_weight_pct
                   + e.practical_score * (100 - p.written_weight_pct) + 50) / 100 >= p.final_min)
  AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.candidate_id = k.id);

UPDATE certificates AS c SET card_due = 1
WHERE c.status = 'issued'
  AND NOT EXISTS (SELECT 1 FROM card_prints p WHERE p.certificate_id = c.id
                  AND p.status IN ('printing', 'bound'))
  AND (NOT EXISTS (SELECT 1 FROM card_prints d WHERE d.certificate_id = c.id
                   AND d.status IN ('damaged', 'void'))
       OR EXISTS (SELECT 1 FROM case_items i JOIN cases ca ON ca.id = i.case_id
                  WHERE i.certificate_id = c.id AND ca.status = 'authorized'
                  AND i.reprint_print_id IS NULL));

CREATE INDEX candidates_certificate_due ON candidates(province_id, id) WHERE certificate_due = 1;
CREATE INDEX candidates_certificate_due_all ON candidates(id) WHERE certificate_due = 1;
CREATE INDEX certificates_card_due ON certificates(province_id, id) WHERE card_due = 1;
CREATE INDEX certificates_card_due_all ON certificates(id) WHERE card_due = 1;
