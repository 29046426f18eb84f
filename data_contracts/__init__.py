"""data_contracts."""
