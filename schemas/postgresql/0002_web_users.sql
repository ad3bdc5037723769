-- Central store v2 on PostgreSQL: the web page's users and sessions on a centre
-- (daemon/http/README.md "Users, passwords, sessions"; daemon/central/central_web.cpp). The same
-- tables as the gateway's schemas/0007_web_users.sql, so that one SQL reads and writes both:
-- "user" is quoted (a reserved word in PostgreSQL), `revoked` stays 0/1.

-- One row per workflow user who may sign in to the page: the Argon2id PHC string of libsodium's
-- crypto_pwhash_str, and the page language the user picked (NULL: http.language).
CREATE TABLE user_credentials (
    "user" TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    changed_ms BIGINT NOT NULL,
    changed_by TEXT NOT NULL,
    language TEXT
);

-- Web sessions: only the SHA-256 of the cookie's token is kept, so a copy of the database lets
-- no one in. Every central process sharing this database reads them at start.
CREATE TABLE http_sessions (
    id_hash TEXT PRIMARY KEY,
    "user" TEXT NOT NULL,
    csrf TEXT NOT NULL,
    address TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX http_sessions_by_user ON http_sessions ("user");
