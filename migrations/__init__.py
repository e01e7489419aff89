"""NNNN_snake_case.sql files, applied in order by db.migrate; never edited once landed."""
