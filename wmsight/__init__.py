"""wmsight."""
