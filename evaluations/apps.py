from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "evaluations"

    def ready(self) -> None:
        from evaluations.receivers import on_reaper_pass, on_run_finished
        from evaluations.selectors import metrics_judging_with
        from integrations.dependents import dependents_finder_register
        from runners.signals import reaper_pass, run_finished

        dependents_finder_register("metric", metrics_judging_with)

        run_finished.connect(on_run_finished, dispatch_uid="evaluations.on_run_finished")
        reaper_pass.connect(on_reaper_pass, dispatch_uid="evaluations.on_reaper_pass")
