"""Load and validate: YAML with lines, the schema, the config, the catalog, the workspace and its summary."""
