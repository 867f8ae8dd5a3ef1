from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExpertsConfig(AppConfig):
    name = "experts"
    verbose_name = _("Experts")

    def ready(self) -> None:
        from experts import policies, steps  # noqa: F401  (register policy rules and step handlers)
        from trading.rules import rules_module_register

        rules_module_register("experts.rules")  # listed by `manage.py rules`

        from experts.selectors import on_panel
        from trading.phases import panel_check_register

        panel_check_register(on_panel)  # the tender's phase table shows panel members their actions
