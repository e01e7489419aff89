-- The database's identity, recorded again in <data dir>/content/owner.json: a content store serves the one database whose identity it holds, so starting with another database (a typo in the SQLite path) is refused instead of sweeping the content as unreferenced.
CREATE TABLE database_identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    identity TEXT NOT NULL
);

INSERT INTO database_identity (id, identity) VALUES (1, lower(hex(randomblob(16))));
