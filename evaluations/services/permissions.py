"""Who may change what in evaluations (DESIGN.md §5): members read and run; admins and the creator delete, cancel."""

from evaluations.models import Dataset, Evaluation, Metric


def can_delete(*, user, obj: Dataset | Evaluation | Metric) -> bool:
    """Admins and the creator (DESIGN.md §5)."""
    membership = getattr(user, "membership", None)
    if membership is None or membership.organization_id != obj.organization_id:
        return False
    return membership.is_admin or obj.created_by_id == user.pk


def can_change_metric(*, user, metric: Metric) -> bool:
    """Edit or delete a metric: admins, and whoever made its first version (DESIGN.md §5)."""
    if can_delete(user=user, obj=metric):
        return True
    membership = getattr(user, "membership", None)
    if membership is None or membership.organization_id != metric.organization_id:
        return False
    return Metric.objects.filter(lineage=metric.lineage, version=1, created_by_id=user.pk).exists()
