-- Shared state of many API processes on one PostgreSQL database: file content by sha256 in 1 MiB chunks (written in the upload's transaction, gone with the last version naming it), and the download-URL signing secret.
CREATE TABLE file_contents (
    sha256 TEXT PRIMARY KEY,
    size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0)
);

CREATE TABLE file_content_chunks (
    sha256 TEXT NOT NULL REFERENCES file_contents (sha256) ON DELETE CASCADE,
    chunk_index BIGINT NOT NULL CHECK (chunk_index >= 0),
    data BYTEA NOT NULL,
    PRIMARY KEY (sha256, chunk_index)
);

-- uploads are mostly compressed already: store chunks out of line without compressing them
ALTER TABLE file_content_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE shared_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
