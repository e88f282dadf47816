import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from annotator.models import Membership, Project, WorkItem
from annotator.services import (
    claim_next_span,
    set_membership,
    skip_span,
    submit_annotation,
)
from tests.factories import CorpusFactory, UserFactory, make_codebook, make_project

pytestmark = pytest.mark.django_db
LABELS = {"topic": "arms", "stance": "neutral"}
HTMX = {"HX-Request": "true"}


def url_exists(name: str) -> bool:
    try:
        reverse(name, args=[1])
    except NoReverseMatch:
        return False
    return True


def user(name):
    return User.objects.get(username=name)


def code(project, name, n, seconds=10.0):
    """The coder codes n spans, each taking `seconds` from claim to submit."""
    start = timezone.now() - timedelta(hours=1)
    for i in range(n):
        at = start + timedelta(minutes=i)
        assignment = claim_next_span(project=project, coder=user(name), now=at)
        submit_annotation(
            coder=user(name),
            assignment=assignment,
            labels=LABELS,
            now=at + timedelta(seconds=seconds),
        )


@pytest.fixture
def project(manager):
    return make_project(
        documents=2, spans_per_document=3, coders=["ann", "bob"], manager=manager
    )


@pytest.fixture
def reviewer(project):
    reviewer = UserFactory(username="rev")
    set_membership(project=project, user=reviewer, role="reviewer")
    return reviewer


# --- home ----------------------------------------------------------------------------


def test_home_lists_my_projects_with_role_and_links(client, project, reviewer):
    other = make_project(documents=1, spans_per_document=1)
    client.force_login(user("ann"))
    page = client.get(reverse("home")).text
    assert project.name in page and other.name not in page
    assert 'class="role role-coder"' in page
    assert project.get_absolute_url() in page
    if url_exists("project-code"):
        assert reverse("project-code", args=[project.pk]) in page
    assert reverse("project-members", args=[project.pk]) not in page
    assert reverse("project-create") not in page

    client.force_login(reviewer)
    page = client.get(reverse("home")).text
    assert "role-reviewer" in page
    if url_exists("project-code"):
        assert reverse("project-code", args=[project.pk]) not in page
    if url_exists("project-agreement"):
        assert reverse("project-agreement", args=[project.pk]) in page


def test_home_for_a_manager_keeps_the_corpora_and_offers_new_project(
    client, manager, project
):
    client.force_login(manager)
    page = client.get(reverse("home")).text
    assert project.corpus.name in page  # the corpora list is still there
    assert reverse("project-create") in page
    assert reverse("project-members", args=[project.pk]) in page


def test_home_without_projects_says_so(client, coder):
    client.force_login(coder)
    assert "not a member of any project" in client.get(reverse("home")).text


# --- progress ------------------------------------------------------------------------


def test_progress_for_reviewers_shows_spans_and_every_coder(client, project, reviewer):
    code(project, "ann", 3, seconds=10)
    code(project, "bob", 2, seconds=30)
    bob_next = claim_next_span(project=project, coder=user("bob"))
    skip_span(coder=user("bob"), assignment=bob_next, reason="unclear")
    client.force_login(reviewer)
    response = client.get(project.get_absolute_url())
    assert response.status_code == 200
    progress = response.context["progress"]
    # 6 spans, all in the sample with k=2: ann and bob coded the first two together.
    assert progress["spans"] == 6 and progress["in_sample"] == 6
    assert progress["done"] == 2 and progress["left"] == 4
    assert progress["codings_done"] == 5
    rows = {line.username: line for line in response.context["coders"]}
    assert (rows["ann"].done, rows["ann"].skipped) == (3, 0)
    assert (rows["bob"].done, rows["bob"].skipped) == (2, 1)
    assert rows["ann"].median_seconds == pytest.approx(10)
    assert rows["bob"].median_seconds == pytest.approx(30)
    # Each bar is the coder's own share (12 designed codings over 2 coders: 6), not
    # the fastest coder's work: bob's skip shows beside his two done.
    assert (rows["ann"].share, rows["bob"].share) == (6, 6)
    assert rows["ann"].done_pct == 50 and rows["bob"].done_pct == pytest.approx(33.3)
    assert rows["bob"].skipped_pct == pytest.approx(16.7)
    assert rows["ann"].last_active is not None
    html = response.text
    assert 'class="seg done w-50"' in html
    assert "<td class=\"num\" data-share>3 / 6</td>" in html
    assert "2</strong> spans done" in html and "4</strong> spans left" in html
    assert "30.0" in html and "10.0" in html


def test_a_coder_past_the_even_split_has_a_full_bar_of_their_own_work(
    client, project, reviewer
):
    code(project, "ann", 6)  # every span once: more than a third of the 12 codings
    set_membership(project=project, user=UserFactory(username="carl"), role="coder")
    client.force_login(reviewer)
    rows = {
        line.username: line
        for line in client.get(project.get_absolute_url()).context["coders"]
    }
    # 12 codings over 3 coders: 4 each; ann did 6, so her share is what she did.
    assert (rows["ann"].share, rows["ann"].done_pct) == (6, 100)
    assert (rows["bob"].share, rows["bob"].done_pct) == (4, 0)
    assert (rows["carl"].share, rows["carl"].done_pct) == (4, 0)


def test_coders_see_only_their_own_progress(client, project):
    code(project, "ann", 2)
    code(project, "bob", 1, seconds=99)
    client.force_login(user("ann"))
    response = client.get(project.get_absolute_url())
    assert response.status_code == 200
    assert [line.username for line in response.context["coders"]] == ["ann"]
    assert "progress" not in response.context
    assert "bob" not in response.text and "99.0" not in response.text
    assert "Your progress" in response.text


def test_progress_page_is_404_for_non_members(client, project, coder):
    client.force_login(coder)
    assert client.get(project.get_absolute_url()).status_code == 404


def test_progress_full_page_and_partial(client, project, reviewer):
    code(project, "ann", 1)
    client.force_login(reviewer)
    full = client.get(project.get_absolute_url())
    assert "<html" in full.text and 'id="progress"' in full.text
    part = client.get(project.get_absolute_url(), headers=HTMX)
    assert part.status_code == 200 and "<html" not in part.text
    assert part.text.lstrip().startswith('<section id="progress"')
    assert "ann" in part.text


@pytest.mark.parametrize("n_coders", [2, 12])
def test_progress_query_count_does_not_grow_with_coders(
    client, manager, n_coders, django_assert_num_queries
):
    names = [f"c{i}" for i in range(n_coders)]
    project = make_project(documents=3, spans_per_document=4, coders=names)
    set_membership(project=project, user=manager, role="manager")
    for name in names:
        code(project, name, 1)
    former = claim_next_span(project=project, coder=user("c0"))
    submit_annotation(coder=user("c0"), assignment=former, labels=LABELS)
    Membership.objects.filter(project=project, user=user("c1")).delete()
    client.force_login(manager)
    # session, user, project (+role), coders, coder stats, former coders' names,
    # medians, span progress, the two permission lookups of the menu, and the
    # downloads' newest archive (their dimensions come from the codebook cache),
    # hidden checks to score and the scored ones (training.checks.alerts)
    with django_assert_num_queries(13):
        response = client.get(project.get_absolute_url())
    assert len(response.context["coders"]) == n_coders
    assert response.text.count('class="track"') == n_coders


def test_project_progress_counts_in_sql():
    project = make_project(documents=2, spans_per_document=5, sample_share=0.4)
    assert WorkItem.objects.filter(project=project).progress() == {
        "spans": 10,
        "in_sample": 4,
        "done": 0,
        "left": 10,
        "started": 0,
        "untouched": 10,
    }


# --- new project ---------------------------------------------------------------------


def form_data(corpus, codebook, **changes):
    data = {
        "name": "Stance in TASS",
        "description": "Second wave",
        "corpus": corpus.pk,
        "codebook": codebook.pk,
        "coders_per_span": 3,
        "sample_share": "25",
        "order": "random",
        "seed": 7,
        "lease_minutes": 20,
        "gold_rules": "unanimous,single,majority",
        "gold_min_share": "60",
        "gold_min_posterior": "95",
    }
    return {**data, **changes}


def test_manager_creates_a_project_with_members(client, manager):
    from tests.factories import DocumentFactory

    corpus = CorpusFactory()
    DocumentFactory.create_batch(4, corpus=corpus)
    codebook = make_codebook()
    ann, bob, cy, rev = (UserFactory(username=n) for n in ("ann", "bob", "cy", "rev"))
    client.force_login(manager)
    assert client.get(reverse("project-create")).status_code == 200
    coders = [ann.pk, bob.pk, cy.pk]  # k = 3
    response = client.post(
        reverse("project-create"),
        form_data(corpus, codebook, coders=coders, reviewers=[rev.pk]),
    )
    project = Project.objects.get(name="Stance in TASS")
    assert response.status_code == 303
    assert response["Location"] == project.get_absolute_url()
    assert (project.coders_per_span, project.sample_share) == (3, 0.25)
    assert (project.order, project.seed, project.lease_minutes) == ("random", 7, 20)
    assert project.gold_methods == ["unanimous", "single", "majority"]
    assert (project.gold_min_share, project.gold_min_posterior) == (0.6, 0.95)
    assert project.work_items.count() == 12
    roles = dict(project.memberships.values_list("user__username", "role"))
    assert roles == {
        "manager": "manager",
        "ann": "coder",
        "bob": "coder",
        "cy": "coder",
        "rev": "reviewer",
    }
    assert project.created_by == manager


def test_project_form_reports_bad_input_and_creates_nothing(client, manager):
    corpus, codebook = CorpusFactory(), make_codebook()
    ann = UserFactory(username="ann")
    client.force_login(manager)
    response = client.post(
        reverse("project-create"),
        form_data(
            corpus,
            codebook,
            name="",
            coders_per_span=0,
            sample_share="140",
            lease_minutes=0,
            gold_rules="model,unanimous",
            gold_min_share="100",
            coders=[ann.pk],
            reviewers=[ann.pk],
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {
        "name", "coders_per_span", "sample_share", "lease_minutes", "reviewers",
        "gold_rules", "gold_min_share",
    }  # fmt: skip
    assert "ann: a member is either a coder or a reviewer." in errors["reviewers"]
    assert not Project.objects.exists()


def test_project_form_full_page_and_partial(client, manager):
    client.force_login(manager)
    full = client.get(reverse("project-create"))
    assert "<html" in full.text and 'id="project-form"' in full.text
    part = client.post(reverse("project-create"), {"name": "x"}, headers=HTMX)
    assert part.status_code == 200 and "<html" not in part.text
    assert part.text.lstrip().startswith('<form id="project-form"')
    assert "This field is required." in part.text
    corpus, codebook = CorpusFactory(), make_codebook()
    ok = client.post(
        reverse("project-create"), form_data(corpus, codebook), headers=HTMX
    )
    assert ok["HX-Redirect"] == Project.objects.get().get_absolute_url()


def test_only_managers_and_staff_may_create_projects(client, coder):
    client.force_login(coder)
    assert client.get(reverse("project-create")).status_code == 403
    assert client.post(reverse("project-create"), {}).status_code == 403
    staff = UserFactory(username="staff", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("project-create")).status_code == 200


# --- members -------------------------------------------------------------------------


def members_url(project):
    return reverse("project-members", args=[project.pk])


def test_members_add_change_remove_without_js(client, manager, project):
    newcomer = UserFactory(username="newcomer")
    client.force_login(manager)
    page = client.get(members_url(project))
    assert page.status_code == 200 and "ann" in page.text

    response = client.post(
        members_url(project), {"op": "add", "username": "newcomer", "role": "coder"}
    )
    assert response.status_code == 303 and response["Location"] == members_url(project)
    assert project.role_of(newcomer) == "coder"

    client.post(
        members_url(project),
        {"op": "change", "username": "newcomer", "role": "reviewer"},
    )
    assert project.role_of(newcomer) == "reviewer"

    live = claim_next_span(project=project, coder=user("ann"))
    response = client.post(members_url(project), {"op": "remove", "username": "ann"})
    assert response.status_code == 303
    assert project.role_of(user("ann")) is None
    live.refresh_from_db()
    assert live.status == "expired"  # the claim went back to the pool
    followed = client.get(members_url(project))
    assert "Removed ann." in followed.text


def test_members_partial_for_htmx(client, manager, project):
    UserFactory(username="newcomer")
    client.force_login(manager)
    full = client.get(members_url(project))
    assert "<html" in full.text and 'id="member-table"' in full.text
    part = client.get(members_url(project), headers=HTMX)
    assert "<html" not in part.text
    assert part.text.lstrip().startswith('<section id="member-table"')
    response = client.post(
        members_url(project),
        {"op": "add", "username": "newcomer", "role": "reviewer"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="member-table"')
    assert "newcomer is now a reviewer." in response.text
    assert re.search(r"newcomer.*?<select", response.text, re.S)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"op": "add", "username": "ghost", "role": "coder"}, "No user named"),
        ({"op": "add", "username": "ann", "role": "coder"}, "ann is already a member"),
        ({"op": "change", "username": "stranger", "role": "coder"}, "not a member"),
        ({"op": "add", "username": "stranger", "role": "boss"}, "boss is not one of"),
        ({"op": "remove", "username": "manager"}, "You cannot remove yourself"),
    ],
)
def test_member_errors_are_shown_in_the_partial(
    client, manager, project, data, message
):
    UserFactory(username="stranger")
    client.force_login(manager)
    before = sorted(project.memberships.values_list("user__username", "role"))
    response = client.post(members_url(project), data, headers=HTMX)
    assert response.status_code == 200
    assert message in response.text
    assert sorted(project.memberships.values_list("user__username", "role")) == before


def test_an_unknown_username_points_to_the_invitations_not_an_administrator(
    client, manager, project
):
    """Managers bring people in by email now: naming someone without an account
    (or one they may not add) says so, as the same answer for both."""
    client.force_login(manager)
    response = client.post(
        members_url(project),
        {"op": "add", "username": "ghost", "role": "coder"},
        headers=HTMX,
    )
    assert "No user named &#x27;ghost&#x27; that you can add" in response.text
    assert "invite them by email" in response.text
    assert "administrator" not in response.text


def test_only_project_managers_may_change_members(client, project, reviewer):
    client.force_login(reviewer)
    assert client.get(members_url(project)).status_code == 403
    response = client.post(members_url(project), {"op": "remove", "username": "ann"})
    assert response.status_code == 403
    assert project.role_of(user("ann")) == "coder"
    outsider = UserFactory(username="outsider")
    client.force_login(outsider)
    assert client.get(members_url(project)).status_code == 404
