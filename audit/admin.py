"""The audit log is not in the back office (issue 15, docs/accounts.md "Operators").

Audit events carry sealed facts' commitments, actors and objects; only supervisors read them,
through the audit API and pages, which apply the supervisor-only policy. The Django admin would
bypass that policy, so `AuditEvent` is deliberately not registered here.
"""
