from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "evaluations"

    def ready(self) -> None:
        from evaluations.receivers import on_run_finished
        from evaluations.selectors import metrics_judging_with
        from integrations.dependents import dependents_finder_register
        from runners.signals import run_finished

        dependents_finder_register("metric", metrics_judging_with)

        run_finished.connect(on_run_finished, dispatch_uid="evaluations.on_run_finished")
