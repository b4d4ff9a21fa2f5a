"""Storage port (base.py, records.py, query.py) and its adapters (sqlite.py, mongo.py)."""
