from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command


def test_it_creates_the_quickstart_login_once_and_prints_it_every_time(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    first, second = StringIO(), StringIO()
    call_command("ensure_demo_user", stdout=first)
    call_command("ensure_demo_user", stdout=second)
    username, password = (tmp_path / "demo-login.txt").read_text().split()
    user = get_user_model().objects.get(username=username)
    assert user.check_password(password) and user.is_superuser and user.is_staff
    assert user.membership.role == "admin"
    for out in (first, second):
        assert f"log in as  {username} / {password}" in out.getvalue()
    assert get_user_model().objects.count() == 1
