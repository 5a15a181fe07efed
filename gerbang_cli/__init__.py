"""The `gerbang` command: the technicians' and operators' CLI (ships; reaches the server over HTTP)."""
