"""Storage: the SQLAlchemy models, the engine, migrations and the queries the features use."""
