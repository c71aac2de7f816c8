"""The web app: the JSON API of the bank now, Swedish pages later (FastAPI)."""
