"""Storage backends behind one protocol: memory, SQLite, PostgreSQL.

``base`` holds the protocol, the chain's hashing and the agenda's queries;
``memory`` the in-process backend; ``sql`` what the SQL backends share;
``sqlite`` and ``postgres`` the dialects; ``migrations`` the schema's history.
"""
