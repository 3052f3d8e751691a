"""Decision records (纪实) and the workbench's accounts: their tables, digests, store and verification."""
