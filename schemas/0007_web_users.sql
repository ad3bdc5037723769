-- Schema v7: the web page's users and sessions (daemon/http/README.md "Sessions and passwords").
-- Who a user is and which roles they hold stays in workflow.users; only what the config must not
-- hold lives here.

-- One row per workflow user who may sign in to the page. `password_hash` is the PHC string of
-- libsodium's crypto_pwhash_str (Argon2id): "$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>".
CREATE TABLE user_credentials (
    user TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    changed_ms INTEGER NOT NULL,
    changed_by TEXT NOT NULL,   -- the user, or the admin, who set it
    language TEXT               -- the page's language this user picked; NULL: http.language
);

-- Web sessions. Only the SHA-256 of the cookie's token is kept, so a copy of this file lets no
-- one in; a revoked or expired row is deleted when the daemon sweeps.
CREATE TABLE http_sessions (
    id_hash TEXT PRIMARY KEY,   -- SHA-256 hex of the cookie's 256-bit token
    user TEXT NOT NULL,
    csrf TEXT NOT NULL,
    address TEXT NOT NULL,      -- the address it was opened from
    created_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,  -- created + 7 days; the idle lifetime ends it sooner
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX http_sessions_by_user ON http_sessions(user);
