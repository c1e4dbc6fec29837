-- Failed sign-in attempts per key (an account's email, a second-factor step, a client address),
-- shared by every node so that N nodes allow the same number of attempts as one.
CREATE TABLE signin_throttles (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    failures BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX signin_throttles_last_failure ON signin_throttles(last_failure);
