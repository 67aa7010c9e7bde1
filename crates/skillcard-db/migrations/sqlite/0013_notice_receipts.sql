-- What the gateway answered when it took a notice (an SMS provider's message id, an SMTP
-- server's queue id), kept for tracing a delivery with the provider.
ALTER TABLE notifications ADD COLUMN receipt TEXT;
