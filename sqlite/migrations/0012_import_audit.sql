-- audit holds, as JSON, the audit entry of an import (written in the
-- import's transaction, so that it commits with the objects) until the
-- entry is appended to the audit log, which is another file; '' once it
-- is there. Entries a crash left behind are appended when the store opens.
ALTER TABLE imports ADD COLUMN audit TEXT NOT NULL DEFAULT '';
CREATE INDEX imports_audit_pending ON imports (last_seq) WHERE audit <> '';
