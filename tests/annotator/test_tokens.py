"""The API token page: create, see, regenerate and revoke your own token."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory(username="ann")


def api_status(client, key) -> int:
    client.logout()
    response = client.get(
        reverse("api-project-list"), HTTP_AUTHORIZATION=f"Token {key}"
    )
    return response.status_code


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(reverse("api-token"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_full_page_create_regenerate_revoke_without_javascript(client, user):
    client.force_login(user)
    page = client.get(reverse("api-token"))
    assert page.status_code == 200
    assert "You have no API token." in page.content.decode()
    assert "<html" in page.content.decode()

    response = client.post(reverse("api-token"), {"action": "create"})
    assert response.status_code == 303 and response["Location"] == reverse("api-token")
    key = Token.objects.get(user=user).key
    assert key in client.get(reverse("api-token")).content.decode()
    assert api_status(client, key) == 200

    client.force_login(user)
    client.post(reverse("api-token"), {"action": "regenerate"})
    new = Token.objects.get(user=user).key
    assert new != key
    assert api_status(client, key) == 401
    assert api_status(client, new) == 200

    client.force_login(user)
    client.post(reverse("api-token"), {"action": "revoke"})
    assert not Token.objects.filter(user=user).exists()
    assert api_status(client, new) == 401


def test_htmx_swaps_only_the_token_card(client, user):
    client.force_login(user)
    response = client.post(
        reverse("api-token"), {"action": "create"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="token-card"')
    assert "<html" not in html
    assert Token.objects.get(user=user).key in html
    partial = client.get(reverse("api-token"), headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<section id="token-card"')


def test_an_unknown_action_is_named(client, user):
    client.force_login(user)
    response = client.post(reverse("api-token"), {"action": "steal"})
    assert response.status_code == 400
    assert (
        "action must be one of create, regenerate, revoke" in response.content.decode()
    )


def test_each_user_sees_only_their_own_token(client, user):
    other = UserFactory(username="bob")
    theirs = Token.objects.create(user=other)
    client.force_login(user)
    assert theirs.key not in client.get(reverse("api-token")).content.decode()


def test_tokens_are_in_the_admin(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    token = Token.objects.create(user=UserFactory(username="ann"))
    client.force_login(admin)
    response = client.get(reverse("admin:authtoken_tokenproxy_changelist"))
    assert response.status_code == 200
    assert "ann" in response.content.decode()
    assert token.user.username == "ann"
