-- sum is the checksum of body (cyberpact.BodySum, CRC-32C), checked on
-- every read; NULL for versions stored before it was kept.
ALTER TABLE objects ADD COLUMN sum bigint;
