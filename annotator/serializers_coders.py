"""DRF shapes of the coders API (annotator/api/coders.py): shapes only, no rules."""

from __future__ import annotations

from rest_framework import serializers

RATIOS = serializers.DictField(
    child=serializers.FloatField(),
    help_text="{dimension key: share of answers that matched the reference}",
)


class AttemptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["test", "manual"])
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    passed = serializers.BooleanField(allow_null=True)
    results = serializers.DictField(
        child=serializers.DictField(),
        help_text="{dimension key: {alpha, percent, n, level, passed, reason}}",
    )
    note = serializers.CharField(allow_blank=True)


class PracticeSerializer(serializers.Serializer):
    rounds = serializers.IntegerField(help_text="Practice rounds with an answer.")
    answered = serializers.IntegerField(help_text="Practice items answered.")
    matched = serializers.DictField(
        child=serializers.FloatField(),
        help_text="{dimension key: share of practice answers that matched}",
    )


class ChecksSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="Hidden checks answered (and scored).")
    accuracy = serializers.DictField(
        child=serializers.FloatField(), help_text="{dimension key: share right}"
    )
    all_right = serializers.FloatField(
        allow_null=True, help_text="Share of checks right on every dimension."
    )
    rolling = serializers.DictField(
        child=serializers.FloatField(),
        help_text="{dimension key: share right over the last check_window answers}",
    )
    window = serializers.IntegerField(help_text="Answers in the rolling window.")
    alert = serializers.BooleanField(
        help_text="A dimension's rolling accuracy is below check_min_accuracy "
        "(with at least 5 answers in the window)."
    )


class MatrixSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    matrix = serializers.ListField(
        source="rows",
        child=serializers.ListField(child=serializers.FloatField()),
        help_text="Rows: the true class; columns: what the coder said; "
        "P(said | true) for Dawid–Skene, counts for checks.",
    )


class ConfusionSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=["checks", "dawid_skene"])
    dimension = serializers.CharField()
    truth = serializers.CharField()
    said = serializers.CharField()
    value = serializers.FloatField(
        help_text="Times on checks, or the model's probability."
    )


class CoderRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="coder")
    username = serializers.CharField()
    member = serializers.BooleanField(help_text="Still a coder of the project.")


class CoderSerializer(serializers.Serializer):
    coder = CoderRefSerializer(source="*")
    certified_at = serializers.DateTimeField(allow_null=True)
    practice = PracticeSerializer()
    attempts = AttemptSerializer(many=True)
    checks = ChecksSerializer()
    check_confusion = MatrixSerializer(many=True)
    dawid_skene = MatrixSerializer(many=True)
    confusions = ConfusionSerializer(
        many=True, help_text="The top 3 off-diagonal cells of each matrix."
    )


class AlertSerializer(serializers.Serializer):
    coder = serializers.IntegerField()
    username = serializers.CharField()
    dimension = serializers.CharField()
    accuracy = serializers.FloatField(help_text="Rolling accuracy.")
    n = serializers.IntegerField(help_text="Answers in the window.")


class ModelSerializer(serializers.Serializer):
    source = serializers.ChoiceField(
        choices=["gold", "fitted", "too_large", "none"],
        help_text="gold: the latest gold refresh with the model rule; fitted: "
        "here, on read; too_large: neither (add the model rule); none: nothing "
        "to fit.",
    )
    as_of = serializers.DateTimeField(allow_null=True)


class CodersSerializer(serializers.Serializer):
    check_window = serializers.IntegerField(source="window")
    check_min_accuracy = serializers.FloatField(source="threshold")
    dawid_skene = ModelSerializer(source="model")
    alerts = AlertSerializer(many=True)
    coders = CoderSerializer(many=True, source="reports")
