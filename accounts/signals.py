"""Audit events for logins, role changes and admin edits, whatever path made them."""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import UserRole
from audit.middleware import current_actor
from audit.services import audit_record
from config.clientip import client_ip


@receiver(user_logged_in, dispatch_uid="accounts.audit_login")
def _login(sender, request, user, **kwargs) -> None:
    data = {"ip": client_ip(request)}
    if request is not None and request.path.startswith("/admin/"):
        data["back_office"] = True  # a login to the Django admin (docs/accounts.md, "Operators")
    audit_record(actor=user, action="auth.login", obj=user, data=data)


@receiver(user_login_failed, dispatch_uid="accounts.audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # `credentials` is already cleansed by Django; only the username is kept.
    audit_record(actor="system", action="auth.login_failed", obj="accounts.user:?",
                 data={"username": str(credentials.get("username", ""))[:150], "ip": client_ip(request)})


@receiver(post_save, sender=UserRole, dispatch_uid="accounts.audit_role_grant")
def _role_granted(sender, instance: UserRole, created: bool, **kwargs) -> None:
    if created:
        audit_record(actor=current_actor(), action="user.role_granted", obj=instance.user,
                     data={"role": instance.role})


@receiver(post_delete, sender=UserRole, dispatch_uid="accounts.audit_role_revoke")
def _role_revoked(sender, instance: UserRole, **kwargs) -> None:
    audit_record(actor=current_actor(), action="user.role_revoked", obj=f"accounts.user:{instance.user_id}",
                 data={"role": instance.role})


_ADMIN_ACTIONS = {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}


@receiver(post_save, sender=LogEntry, dispatch_uid="accounts.audit_admin_edit")
def _admin_edit(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    if created:
        admin_entry_audit(instance)


def admin_entry_audit(instance: LogEntry) -> None:
    """The audit event of one back-office change (also called for bulk deletions, accounts/admin.py)."""
    ct = instance.content_type
    model = f"{ct.app_label}.{ct.model}" if ct else "unknown"
    # change_message is JSON naming the changed fields (untranslated), never their values.
    audit_record(actor=instance.user, action=f"admin.{_ADMIN_ACTIONS.get(instance.action_flag, 'edited')}",
                 obj=f"{model}:{instance.object_id}",
                 data={"change": instance.change_message[:500], "repr": instance.object_repr[:200]})
