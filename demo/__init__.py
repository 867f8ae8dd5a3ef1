"""Demo data and the demo tender: everything a sandbox shows a newcomer, nothing production uses.

`demo.accounts` (organisations and users for every role), `demo.experts` (the expert pool),
`demo.tender` (the story of `manage.py demo_tender`) and `demo.actors` (the simulated bank, custodians,
bidders and experts). The commands live in demo/management/commands (`seed_demo`, `demo_tender`).
This app sits above every domain app: it imports them, none imports it (docs/architecture.md).
"""
