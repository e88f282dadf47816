"""What people make of the corpus: codebooks, projects, the queue, annotations, gold.

One module per area; every model is importable from ``annotator.models``.
"""

from annotator.models.agreement import AgreementIntervals
from annotator.models.annotations import (
    Annotation,
    AnnotationQuerySet,
    AnnotationRevision,
    ChangeCounter,
    Label,
    Median,
)
from annotator.models.codebooks import Category, Codebook, Dimension
from annotator.models.gold import (
    GoldLabel,
    GoldLabelCategory,
    GoldLabelRevision,
    GoldMethod,
    GoldRun,
    GoldWaiting,
)
from annotator.models.jobs import (
    Job,
    JobChunk,
    JobFile,
    JobKind,
    JobQuerySet,
    JobState,
    ShowsJob,
)
from annotator.models.machine import (
    MACHINE_METHOD,
    MachineCoder,
    MachineCoderQuerySet,
    MachineLabel,
)
from annotator.models.people import (
    CoderPreferences,
    CoderPreferencesQuerySet,
    Invitation,
    InvitationQuerySet,
    PasswordResetAttempt,
)
from annotator.models.projects import (
    DesignChange,
    Membership,
    Project,
    ProjectManager,
    ProjectQuerySet,
    default_gold_methods,
    gold_methods_problem,
)
from annotator.models.queue import (
    Assignment,
    AssignmentQuerySet,
    WorkItem,
    WorkItemQuerySet,
)
from annotator.models.training import (
    CheckAnswer,
    ReferenceItem,
    ReferenceItemQuerySet,
    TrainingAnswer,
    TrainingAttempt,
)

__all__ = [
    "AgreementIntervals",
    "Annotation",
    "AnnotationQuerySet",
    "AnnotationRevision",
    "Assignment",
    "AssignmentQuerySet",
    "Category",
    "ChangeCounter",
    "CheckAnswer",
    "CoderPreferences",
    "CoderPreferencesQuerySet",
    "Codebook",
    "DesignChange",
    "Dimension",
    "GoldLabel",
    "GoldLabelCategory",
    "GoldLabelRevision",
    "GoldMethod",
    "GoldRun",
    "GoldWaiting",
    "Invitation",
    "InvitationQuerySet",
    "Job",
    "JobChunk",
    "JobFile",
    "JobKind",
    "JobQuerySet",
    "JobState",
    "ShowsJob",
    "Label",
    "MACHINE_METHOD",
    "MachineCoder",
    "MachineCoderQuerySet",
    "MachineLabel",
    "Median",
    "Membership",
    "PasswordResetAttempt",
    "Project",
    "ProjectManager",
    "ProjectQuerySet",
    "ReferenceItem",
    "ReferenceItemQuerySet",
    "TrainingAnswer",
    "TrainingAttempt",
    "WorkItem",
    "WorkItemQuerySet",
    "default_gold_methods",
    "gold_methods_problem",
]
