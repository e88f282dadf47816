"""The design pages: the new-project form's refusal, the design page and its preview."""

import pytest
from django.urls import reverse

from annotator.models import DesignChange, Membership, Project, WorkItem
from annotator.services import change_design, set_membership
from tests.factories import (
    CorpusFactory,
    DocumentFactory,
    UserFactory,
    make_codebook,
    make_project,
)

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def project(manager):
    return make_project(
        documents=2, spans_per_document=3, coders=["ann", "bob"], manager=manager
    )


def design_url(project):
    return reverse("project-design", args=[project.pk])


def preview_url(project):
    return reverse("project-design-preview", args=[project.pk])


def new_project(corpus, codebook, **changes):
    return {
        "name": "Stance in TASS",
        "corpus": corpus.pk,
        "codebook": codebook.pk,
        "coders_per_span": 3,
        "sample_share": "100",
        "order": "document",
        "seed": 1,
        "lease_minutes": 30,
        "gold_rules": "unanimous,single",
        "gold_min_share": "50",
        "gold_min_posterior": "90",
        **changes,
    }


def test_new_project_form_refuses_k_above_the_chosen_coders(client, manager):
    corpus, codebook = CorpusFactory(), make_codebook()
    DocumentFactory.create_batch(2, corpus=corpus)
    solo = UserFactory(username="solo")
    client.force_login(manager)
    response = client.post(
        reverse("project-create"), new_project(corpus, codebook, coders=[solo.pk])
    )
    assert response.status_code == 200
    assert response.context["form"].errors["coders_per_span"] == [
        "3 coders per span need at least 3 coders; this project has 1."
    ]
    assert "3 coders per span need at least 3 coders" in response.text
    assert not Project.objects.exists()


def test_a_project_without_coders_yet_says_it_is_not_codable(client, manager):
    corpus, codebook = CorpusFactory(), make_codebook()
    DocumentFactory.create_batch(2, corpus=corpus)
    client.force_login(manager)
    created = client.post(reverse("project-create"), new_project(corpus, codebook))
    assert created.status_code == 303
    page = client.get(created["Location"])
    assert "Too few coders for this design: 3 more needed" in page.text
    assert design_url(Project.objects.get()) in page.text


def test_adding_a_coder_says_how_many_are_still_missing(client, manager):
    corpus, codebook = CorpusFactory(), make_codebook()
    DocumentFactory.create_batch(2, corpus=corpus)
    client.force_login(manager)
    client.post(reverse("project-create"), new_project(corpus, codebook))
    project = Project.objects.get()
    set_membership(project=project, user=manager, role=Membership.Role.MANAGER)
    UserFactory(username="newcoder")
    added = client.post(
        reverse("project-members", args=[project.pk]),
        {"op": "add", "username": "newcoder", "role": "coder"},
        follow=True,
    )
    assert (
        "newcoder is now a coder. Still too few coders: 3 coders per span need "
        "at least 3 coders; this project has 1." in added.text
    )


def test_the_project_page_warns_until_there_are_k_coders(client, manager, project):
    client.force_login(manager)
    assert "Too few coders" not in client.get(project.get_absolute_url()).text
    Project.objects.filter(pk=project.pk).update(coders_per_span=4)
    page = client.get(project.get_absolute_url()).text
    assert "Too few coders for this design: 2 more needed" in page
    assert "4 coders per span need at least 4 coders; this project has 2." in page


def test_design_page_full_and_partial(client, manager, project):
    client.force_login(manager)
    full = client.get(design_url(project))
    assert full.status_code == 200 and "<html" in full.text
    assert 'id="design-form"' in full.text and 'id="design-preview"' in full.text
    assert "No change since the project was created." in full.text
    part = client.get(design_url(project), headers=HTMX)
    assert "<html" not in part.text
    assert part.text.lstrip().startswith('<section id="design-form"')


def test_preview_shows_the_effect_and_writes_nothing(client, manager, project):
    client.force_login(manager)
    set_membership(project=project, user=UserFactory(username="cy"), role="coder")
    data = {"coders_per_span": 3, "sample_share": "100", "lease_minutes": 30}
    part = client.post(preview_url(project), data, headers=HTMX)
    assert part.status_code == 200 and "<html" not in part.text
    assert part.text.lstrip().startswith('<section id="design-preview"')
    assert "k 2 → 3" in part.text
    assert "6 more codings to hand out" in part.text
    assert "0 codings are discarded" in part.text
    full = client.post(preview_url(project), data)  # without JavaScript
    assert "<html" in full.text and "6 more codings to hand out" in full.text
    assert not DesignChange.objects.exists()
    assert set(WorkItem.objects.values_list("target", flat=True)) == {2}


def test_preview_and_save_refuse_k_above_the_coders(client, manager, project):
    client.force_login(manager)
    data = {"coders_per_span": 3, "sample_share": "100", "lease_minutes": 30}
    message = "3 coders per span need at least 3 coders; this project has 2."
    part = client.post(preview_url(project), data, headers=HTMX)
    assert message in part.text and "more codings" not in part.text
    saved = client.post(design_url(project), data)
    assert saved.status_code == 200
    assert saved.context["form"].errors["coders_per_span"] == [message]
    assert not DesignChange.objects.exists()


def test_saving_applies_the_change_and_lists_it(client, manager, project):
    client.force_login(manager)
    data = {"coders_per_span": 2, "sample_share": "50", "lease_minutes": 45}
    response = client.post(design_url(project), data)
    assert response.status_code == 303 and response["Location"] == design_url(project)
    project.refresh_from_db()
    assert (project.sample_share, project.lease_minutes) == (0.5, 45)
    change = DesignChange.objects.get()
    assert change.changed_by == manager
    page = client.get(design_url(project)).text
    assert "sample 100% → 50%, lease 30 → 45 min" in page


@pytest.mark.parametrize("role", ["coder", "reviewer"])
def test_only_managers_may_see_or_change_the_design(client, project, role):
    member = UserFactory(username=f"a-{role}")
    set_membership(project=project, user=member, role=role)
    client.force_login(member)
    data = {"coders_per_span": 1, "sample_share": "100", "lease_minutes": 30}
    assert client.get(design_url(project)).status_code == 403
    assert client.post(design_url(project), data).status_code == 403
    assert client.post(preview_url(project), data).status_code == 403
    assert not DesignChange.objects.exists()
    page = client.get(project.get_absolute_url()).text
    assert design_url(project) not in page


def test_anonymous_users_go_to_the_login_page(client, project):
    response = client.get(design_url(project))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert client.post(preview_url(project), {}).status_code == 302


@pytest.mark.parametrize("n_changes", [1, 8])
def test_design_page_query_count_does_not_grow_with_history(
    client, manager, project, n_changes, django_assert_num_queries
):
    for at in range(n_changes):
        change_design(project, lease_minutes=31 + at, by=manager)
    client.force_login(manager)
    # session, user, project (+role), coders, the two permission lookups of the
    # menu, the history with its authors, the users to add and the coders to remove
    # 10: the last one reads when active learning was on.
    with django_assert_num_queries(10):
        response = client.get(design_url(project))
    assert response.text.count("<tr><td><time") == n_changes


def test_the_admin_lists_design_changes_read_only(client, manager, project):
    change_design(project, lease_minutes=40, by=manager)
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get(reverse("admin:annotator_designchange_changelist"))
    assert listing.status_code == 200 and "lease 30 → 40 min" in listing.text
    assert client.get(reverse("admin:annotator_designchange_add")).status_code == 403
