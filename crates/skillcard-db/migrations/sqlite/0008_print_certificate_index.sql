-- A certificate's prints are read on every public verification, every print and every case
-- step; without an index each of those reads scanned every print in the country.
CREATE INDEX card_prints_certificate ON card_prints(certificate_id, id);
