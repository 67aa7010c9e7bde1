-- Every list pages newest first by id within a province, often in one status: each gets an
-- index that leads with what it filters on and ends with the id it orders by, so a page is an
-- index seek however many rows the table holds (PostgreSQL does not append the key to an
-- index the way SQLite appends the rowid, so the id is spelled out).
DROP INDEX card_prints_province_status;
CREATE INDEX card_prints_province_status ON card_prints(province_id, status, id);
CREATE INDEX card_prints_status ON card_prints(status, id);
DROP INDEX cases_province_status;
CREATE INDEX cases_province_status ON cases(province_id, status, id);
CREATE INDEX cases_status ON cases(status, id);
CREATE INDEX cases_province ON cases(province_id, id);
CREATE INDEX exam_lists_province_status ON exam_lists(province_id, status, id);
CREATE INDEX exam_lists_status ON exam_lists(status, id);
CREATE INDEX shipments_province_status ON shipments(province_id, status, id);
CREATE INDEX shipments_status ON shipments(status, id);
CREATE INDEX monthly_requests_province ON monthly_requests(province_id, id);
CREATE INDEX monthly_requests_province_status ON monthly_requests(province_id, status, id);
CREATE INDEX monthly_requests_status ON monthly_requests(status, id);
CREATE INDEX notifications_province ON notifications(province_id, status, id);
CREATE INDEX notifications_province_id ON notifications(province_id, id);
CREATE INDEX audit_log_record ON audit_log(entity, entity_id, seq);
CREATE INDEX notifications_status ON notifications(status, id);
-- The office's search by name (db/search.rs): family name, then given name.
CREATE INDEX candidates_name ON candidates(last_name, first_name, id);
CREATE INDEX candidates_last_name ON candidates(last_name, id);
-- …and within a province, where a common family name is shared by many thousands nationally.
CREATE INDEX candidates_province_name ON candidates(province_id, last_name, first_name, id);
CREATE INDEX candidates_province_last_name ON candidates(province_id, last_name, id);
-- The queue of undelivered cards (R-5.4), in the order it is read, for a province and for HQ:
-- led by the status it filters on, so the planner prefers it to the (status, id) indexes.
CREATE INDEX card_prints_queue ON card_prints(province_id, status, registered_on, id)
    WHERE delivered_at IS NULL;
CREATE INDEX card_prints_queue_all ON card_prints(status, registered_on, id)
    WHERE delivered_at IS NULL;
-- Which log entries name a card print (transparency.rs, check.rs).
CREATE INDEX log_entries_print ON log_entries(print_id);
