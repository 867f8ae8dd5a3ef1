from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from accounts.uscc import uscc_problem


def validate_uscc(value: str) -> None:
    problem = uscc_problem(value)
    if problem:
        raise ValidationError(_("Invalid unified social credit code: %(problem)s"), params={"problem": problem},
                              code="invalid_uscc")


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True,
                            validators=[validate_uscc])
    # 基本账户: cash deposits must come from it (实施条例 Art 26).
    basic_account_bank = models.CharField(_("basic account bank"), max_length=200, blank=True)
    basic_account_number = models.CharField(_("basic account number"), max_length=40, blank=True)
    basic_account_name = models.CharField(_("basic account name"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="users", verbose_name=_("organisation"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    def has_role(self, role: str) -> bool:
        if not self.is_authenticated or not self.is_active:
            return False
        cached = getattr(self, "_role_cache", None)
        if cached is None:
            cached = set(self.role_grants.values_list("role", flat=True))
            self._role_cache = cached
        return role in cached

    @property
    def roles(self) -> list[str]:
        return sorted(r for r in Role.values if self.has_role(r))


class UserRole(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=32, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_user_role")]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return f"{self.user} {self.role}"


class ApiToken(models.Model):
    """An API token, stored as its SHA-256 digest only (docs/accounts.md, "API tokens").

    The clear key is shown once, in the response that creates it; nobody (back office and
    database administrators included) can read it back. `prefix` (the first 8 characters)
    lets its owner tell tokens apart."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens",
                             verbose_name=_("user"))
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}…"
