-- What the SMS provider's delivery report said about a sent notice (`delivered` or
-- `undelivered`, guarded from `Delivery::ALL`), its own words, and when it said so. Reports
-- name the message by the provider's id, kept in `receipt`.
ALTER TABLE notifications ADD COLUMN delivery TEXT;
ALTER TABLE notifications ADD COLUMN delivery_detail TEXT;
ALTER TABLE notifications ADD COLUMN delivery_reported_at TEXT;
CREATE INDEX notifications_receipt ON notifications(receipt) WHERE receipt IS NOT NULL;
