"""Codebooks: versions, their dimensions and categories."""

from __future__ import annotations

from django.db import models


class CodebookQuerySet(models.QuerySet):
    def listing(self) -> CodebookQuerySet:
        """Every version with `in_use` (frozen), `n_dimensions` and its projects
        (id and name) prefetched: the codebooks page in two queries."""
        from annotator.models.annotations import Annotation
        from annotator.models.projects import Project

        return (
            self.annotate(
                in_use=models.Exists(
                    Annotation.objects.filter(codebook_id=models.OuterRef("pk"))
                ),
                n_dimensions=models.Count("dimensions"),
            )
            .prefetch_related(
                models.Prefetch(
                    "projects",
                    queryset=Project.objects.only("id", "name", "codebook_id").order_by(
                        "name"
                    ),
                )
            )
            .order_by("family", "-version")
        )


class Codebook(models.Model):
    """One version of a codebook. Versions in use are frozen; changes make a new one."""

    family = models.SlugField(
        max_length=100, help_text="Stable identifier shared by all versions."
    )
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CodebookQuerySet.as_manager()

    class Meta:
        ordering = ["family", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["family", "version"], name="codebook_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    def is_in_use(self) -> bool:
        """True once any annotation was made under this version: it is then frozen."""
        from annotator.models.annotations import Annotation

        return Annotation.objects.filter(codebook_id=self.pk).exists()


class DimensionQuerySet(models.QuerySet):
    def in_family_of(self, codebook_id: int) -> DimensionQuerySet:
        """The dimensions of every version of this codebook's family.

        Annotations and gold keep the version they were made under, so a dimension
        is matched across versions by its key: filter these by key.
        """
        family = Codebook.objects.filter(pk=codebook_id).values("family")
        return self.filter(codebook__family__in=family)


class Dimension(models.Model):
    class Level(models.TextChoices):
        NOMINAL = "nominal", "nominal"
        ORDINAL = "ordinal", "ordinal"

    codebook = models.ForeignKey(
        Codebook, on_delete=models.CASCADE, related_name="dimensions"
    )
    key = models.SlugField(max_length=100)
    label = models.CharField(max_length=200)
    level = models.CharField(max_length=10, choices=Level, default=Level.NOMINAL)
    multiple = models.BooleanField(
        default=False, help_text="Coders may pick several categories."
    )
    required = models.BooleanField(default=True)
    instructions = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    objects = DimensionQuerySet.as_manager()

    class Meta:
        ordering = ["codebook_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["codebook", "key"], name="dimension_unique_key"
            )
        ]

    def __str__(self) -> str:
        return self.label


class Category(models.Model):
    dimension = models.ForeignKey(
        Dimension, on_delete=models.CASCADE, related_name="categories"
    )
    key = models.SlugField(max_length=100)
    label = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    examples = models.JSONField(default=list, blank=True)
    typical_words = models.JSONField(
        default=list, blank=True, help_text="Words that often signal this category."
    )
    shortcut = models.CharField(max_length=1, blank=True)
    value = models.FloatField(
        null=True, blank=True, help_text="Numeric position for ordinal dimensions."
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["dimension_id", "position", "id"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "key"], name="category_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return self.label
