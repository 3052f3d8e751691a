"""Decision records (纪实): digests, recording a decision, verification. Their tables and store (and the workbench accounts) live in facts/ (record_tables, record_store, accounts), where all SQL is."""
