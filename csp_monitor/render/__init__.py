"""The render layer: tables, JSON/CSV, HTML and email bodies from results."""
