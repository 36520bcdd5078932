from django.apps import AppConfig


class PromptsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "prompts"
    verbose_name = "Saved prompts"

    def ready(self) -> None:
        from integrations.dependents import dependents_finder_register
        from prompts.selectors import prompts_written_for

        dependents_finder_register("prompt", prompts_written_for)
