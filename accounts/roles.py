from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    TENDERER = "tenderer", _("Tenderer")
    AGENT = "agent", _("Tender agent")
    BIDDER = "bidder", _("Bidder")
    EXPERT = "expert", _("Expert")
    SUPERVISOR = "supervisor", _("Supervisor")
    PLATFORM_ADMIN = "platform_admin", _("Platform administrator")
    # Holds one share of each lot's opening key (SPECS.md §1); agents, supervisors
    # and the platform each appoint one.
    CUSTODIAN = "custodian", _("Key custodian")
