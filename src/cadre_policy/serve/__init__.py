"""`policy serve`: the REST decision API and the officers' browser workbench (FastAPI on uvicorn)."""
