"""The expert pool (评标专家库): specialties, experts and the facts avoidance is computed from."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SpecialtyCategory(models.TextChoices):
    # 招标投标法 Art 37 counts technical and economic experts toward the two-thirds share.
    TECHNICAL = "technical", _("Technical")
    ECONOMIC = "economic", _("Economic")
    LEGAL = "legal", _("Legal")
    OTHER = "other", _("Other")


class Specialty(models.Model):
    """One entry of the hierarchical code list (A → A02 → A0201), shipped as experts/fixtures/specialties.json.

    Drawing from a code draws from its whole subtree: "A02" takes experts of A0201 … A0204 too.
    """

    code = models.CharField(_("code"), max_length=16, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("parent"))
    category = models.CharField(_("category"), max_length=16, choices=SpecialtyCategory.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def counts_as_tech_econ(self) -> bool:
        return self.category in (SpecialtyCategory.TECHNICAL, SpecialtyCategory.ECONOMIC)


class ExpertStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    BANNED = "banned", _("Banned")


class Expert(models.Model):
    """An expert of the pool. The ID number is never stored: only its keyed hash (experts/identity.py)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="expert_profile", verbose_name=_("user account"))
    name = models.CharField(_("name"), max_length=100)
    id_number_hash = models.CharField(_("ID number hash"), max_length=64, unique=True, editable=False)
    phone = models.CharField(_("mobile phone"), max_length=32, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    # Administrative division code (GB/T 2260), e.g. "330100"; a request for "33" matches the whole province.
    region = models.CharField(_("region code"), max_length=12, db_index=True)
    employer = models.ForeignKey("accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="expert_staff", verbose_name=_("employer"))
    title = models.CharField(_("professional title"), max_length=100, blank=True)
    years = models.PositiveSmallIntegerField(_("years of experience"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=ExpertStatus.choices, default=ExpertStatus.ACTIVE,
                              db_index=True)
    status_reason = models.CharField(_("status reason"), max_length=500, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    specialties = models.ManyToManyField(Specialty, through="ExpertSpecialty", related_name="experts",
                                         verbose_name=_("specialties"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("expert")
        verbose_name_plural = _("experts")

    def __str__(self) -> str:
        return f"expert {self.pk}"


class ExpertSpecialty(models.Model):
    """An expert's specialty. Indexed (specialty, expert) so that a line's candidates are an index-only scan."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="+")
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["expert", "specialty"], name="unique_expert_specialty")]
        indexes = [models.Index(fields=["specialty", "expert"], name="expert_specialty_candidates")]

    def __str__(self) -> str:
        return f"{self.expert_id} {self.specialty_id}"


class EmploymentPosition(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    DIRECTOR = "director", _("Director or supervisor")
    SHAREHOLDER = "shareholder", _("Controlling shareholder or actual controller")


class ExpertEmployment(models.Model):
    """A past (or second, ongoing) relation with an organisation: 政府采购法实施条例 Art 9 looks back 3 years."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="employments")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("organisation"))
    position = models.CharField(_("position"), max_length=16, choices=EmploymentPosition.choices,
                                default=EmploymentPosition.EMPLOYEE)
    started_on = models.DateField(_("from"), null=True, blank=True)
    ended_on = models.DateField(_("to"), null=True, blank=True, help_text=_("empty: still ongoing"))

    class Meta:
        ordering = ["expert_id", "started_on", "pk"]
        indexes = [models.Index(fields=["organisation", "ended_on"], name="expert_employment_org_end")]
        verbose_name = _("past employer")
        verbose_name_plural = _("past employers")

    def __str__(self) -> str:
        return f"expert {self.expert_id} at {self.organisation_id}"


class ExpertRelative(models.Model):
    """A declared close relative's organisation (the relative is a principal or staff member there)."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="relatives")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("organisation"))
    relation = models.CharField(_("relation"), max_length=50)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["expert_id", "pk"]
        verbose_name = _("declared relative")
        verbose_name_plural = _("declared relatives")

    def __str__(self) -> str:
        return f"expert {self.expert_id} relative at {self.organisation_id}"


class ExpertLeave(models.Model):
    """A period in which the expert is not available (leave, illness, travel)."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="leaves")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expert_id", "starts_at"]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="expert_leave_period")]
        verbose_name = _("leave")
        verbose_name_plural = _("leaves")

    def __str__(self) -> str:
        return f"expert {self.expert_id} leave"


class PanelRecord(models.Model):
    """A panel the expert sat on (or has accepted), kept for the same-tenderer cap and the expert's history.

    Rows made by the platform point at their draw; imported history has none. A member who leaves or a
    cancelled draw marks the row `cancelled` (history is never deleted).
    """

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="panel_records")
    tenderer = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    tender = models.ForeignKey("trading.Tender", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    draw = models.ForeignKey("experts.Draw", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    evaluation_start = models.DateTimeField()
    cancelled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-evaluation_start", "pk"]
        indexes = [models.Index(fields=["tenderer", "evaluation_start"], name="panel_record_tenderer")]
        verbose_name = _("panel record")
        verbose_name_plural = _("panel records")

    def __str__(self) -> str:
        return f"expert {self.expert_id} panel {self.evaluation_start:%Y-%m-%d}"
