from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "evaluations"

    def ready(self) -> None:
        from evaluations.receivers import on_run_finished
        from runners.signals import run_finished

        run_finished.connect(on_run_finished, dispatch_uid="evaluations.on_run_finished")
