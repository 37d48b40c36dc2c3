"""Issue definitions: the schema and the loader."""
