-- Joint exercises: the scenario, seed, speed, which organisation plays each
-- participant, and the engine's state, saved under an optimistic version so
-- that the serve processes sharing the database never overwrite each
-- other's progress. Their objects are in objects with aud_kind 4 or 5 and
-- aud_group = id.
CREATE TABLE exercises (
    id           bigserial        PRIMARY KEY,
    name         text             NOT NULL CHECK (name <> ''),
    scenario     bytea            NOT NULL,  -- the scenario file (JSON)
    seed         bigint           NOT NULL,  -- the uint64 seed's bits
    speed        double precision NOT NULL CHECK (speed > 0),
    participants bytea            NOT NULL,  -- JSON: participant id -> org id
    state        text             NOT NULL,
    engine       bytea            NOT NULL,  -- JSON: the engine's snapshot
    version      bigint           NOT NULL,
    created      bigint           NOT NULL,  -- unix microseconds
    updated      bigint           NOT NULL
);
