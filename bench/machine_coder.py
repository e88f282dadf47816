#!/usr/bin/env python3
"""Machine-coder benchmark: train on synthetic gold, predict a million spans (no DB).

Targets (issue 18), on the 2 shared cores: train on 50,000 gold spans in
<= 60 s, predict 1,000,000 spans in <= 120 s, peak memory <= 1.5 GB.

    .venv/bin/python bench/machine_coder.py [--train 50000] [--predict 1000000]
        [--batch 20000] [--signal 0.3] [--validate]

The spans come from ``annotator.machine.synthetic`` (4 topics, 8-24 words,
each word from the span's topic with probability ``--signal``); the spans to
predict share the training corpus' vocabulary but are drawn afresh, batch by
batch, so memory holds one batch of texts at a time, as "code the rest" would
read them from the database. Drawing the texts is not timed; featurising and
predicting are. Peak RSS (ru_maxrss) is the whole process's.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.machine import synthetic  # noqa: E402
from annotator.machine.classifier import (  # noqa: E402
    dumps,
    library_versions,
    make_classifier,
)
from annotator.machine.validation import out_of_fold, validate  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=int, default=50_000)
    parser.add_argument("--predict", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--signal", type=float, default=0.3)
    parser.add_argument(
        "--validate",
        action="store_true",
        help="also time 5-fold grouped out-of-fold validation on the gold",
    )
    args = parser.parse_args()

    print(f"versions: {library_versions()}")
    gold = synthetic.corpus(args.train, signal=args.signal, seed=1)
    print(
        f"gold: {args.train:,} spans, {len(gold.topics)} topics; RSS {peak_mb():.0f} MB"
    )

    model = make_classifier("tfidf_linear", batch_size=args.batch)
    started = time.perf_counter()
    model.fit(gold.texts, gold.labels)
    train_s = time.perf_counter() - started
    train_peak = peak_mb()
    stored = len(dumps(model))
    print(
        f"train: {train_s:.1f} s; peak RSS {train_peak:.0f} MB; "
        f"stored model {stored / 1e6:.1f} MB"
    )
    if args.validate:
        started = time.perf_counter()
        oof = out_of_fold(
            lambda: make_classifier("tfidf_linear", batch_size=args.batch),
            gold.texts,
            gold.labels,
            gold.groups,
        )
        found = validate(gold.labels, oof.predicted, gold.topics, "nominal")
        print(
            f"validate: 5 folds + interval {time.perf_counter() - started:.1f} s; "
            f"alpha vs gold {found['alpha_vs_gold']:.3f} {found['interval']}, "
            f"macro F1 {found['f1_macro']:.3f}; peak RSS {peak_mb():.0f} MB"
        )
    del gold

    predicting = 0.0
    correct = done = 0
    batch_no = 0
    while done < args.predict:
        n = min(args.batch, args.predict - done)
        spans = synthetic.corpus(n, signal=args.signal, seed=100 + batch_no)
        started = time.perf_counter()
        proba = model.predict_proba(spans.texts)
        keys = np.asarray(model.classes)[proba.argmax(axis=1)]
        confidence = proba.max(axis=1)
        predicting += time.perf_counter() - started
        correct += int((keys == np.asarray(spans.labels)).sum())
        done += n
        batch_no += 1
        if batch_no % 10 == 0:
            print(f"  {done:,} predicted, {predicting:.1f} s so far", flush=True)
    print(
        f"predict: {done:,} spans in {predicting:.1f} s "
        f"({done / predicting:,.0f}/s), batches of {args.batch:,}; "
        f"accuracy {correct / done:.3f}; last batch mean confidence "
        f"{float(confidence.mean()):.3f}"
    )
    print(f"peak RSS: {peak_mb():.0f} MB (after training {train_peak:.0f} MB)")


if __name__ == "__main__":
    main()
