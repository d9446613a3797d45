-- Joint exercises: the scenario, seed, speed, which organisation plays each
-- participant, and the engine's state, saved under an optimistic version.
-- Their objects are in objects with aud_kind 4 or 5 and aud_group = id.
CREATE TABLE exercises (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL CHECK (name <> ''),
    scenario     BLOB    NOT NULL,                   -- the scenario file (JSON)
    seed         INTEGER NOT NULL,                   -- the uint64 seed's bits
    speed        REAL    NOT NULL CHECK (speed > 0),
    participants BLOB    NOT NULL,                   -- JSON: participant id -> org id
    state        TEXT    NOT NULL,
    engine       BLOB    NOT NULL,                   -- JSON: the engine's snapshot
    version      INTEGER NOT NULL,
    created      INTEGER NOT NULL,                   -- unix microseconds
    updated      INTEGER NOT NULL
);
