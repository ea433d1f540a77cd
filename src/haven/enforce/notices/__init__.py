"""User reports (DSA Art 16 notices): intake, merging into cases, priority, reporters' standing."""
