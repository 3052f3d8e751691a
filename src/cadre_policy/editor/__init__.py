"""Editor support: the schemas editors complete and check with (``policy schema``) and the
language server (``policy lsp``)."""
