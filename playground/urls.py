from django.urls import path

from playground import views

app_name = "playground"

urlpatterns = [
    path("playground", views.playground_page, name="page"),
    path("playground/draft", views.draft, name="draft"),
    path("playground/runs", views.runs_start, name="runs-start"),
    path("playground/runs/<uuid:run_id>", views.run_detail, name="run"),
    path("playground/runs/<uuid:run_id>/live", views.run_live, name="run-live"),
    path("playground/runs/<uuid:run_id>/cancel", views.run_cancel, name="run-cancel"),
    path("playground/jobs/<uuid:job_id>", views.job_detail, name="job"),
]
