"""One module per API resource; each exports ``routes`` (a list of ``routing.api`` routes)."""
