"""A stand-alone transparency-log witness (C2SP tlog-witness + tlog-cosignature/v1).

Run by an independent party (the supervision bureau, a notary), not by the platform:
`python -m witness serve --config witness.json`. See docs/witness.md.
"""
