from integrations.permissions import integration_permissions
from tests.factories import make_integration


def test_it_gives_admins_and_creators_write_permissions(admin_user, member_user, other_admin, org):
    integration = make_integration(organization=org, user=member_user)
    assert "update" in integration_permissions(integration=integration, user=admin_user)
    assert "read_secrets" in integration_permissions(integration=integration, user=member_user)
    assert integration_permissions(integration=integration, user=other_admin) == []
