import pytest
from django.core.management import call_command

from demo import experts as demo
from experts.models import Expert, ExpertEmployment, ExpertLeave, ExpertRelative, ExpertStatus

pytestmark = pytest.mark.django_db


def test_demo_pool_is_built_from_the_demo_experts_and_is_idempotent():
    call_command("seed_demo")
    assert Expert.objects.count() == 60
    assert Expert.objects.filter(user__username="expert07").exists()
    assert ExpertEmployment.objects.count() == 3 and ExpertRelative.objects.count() == 1
    assert ExpertLeave.objects.count() == 2
    assert set(Expert.objects.exclude(status=ExpertStatus.ACTIVE).values_list("status", flat=True)) == {
        "suspended", "banned"}
    assert Expert.objects.filter(specialties__code="D0101").exists()
    assert demo.seed() == []
    assert Expert.objects.count() == 60
