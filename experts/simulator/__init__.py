"""A stand-in SMS/voice gateway for demos and tests (experts/simulator/server.py)."""
