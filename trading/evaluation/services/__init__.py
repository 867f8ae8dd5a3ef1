"""Services of the evaluation sub-app: writes named `<thing>_<verb>`, keyword-only, atomic, audited."""
