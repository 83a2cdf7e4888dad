"""Language-detection accuracy of tarjama.translate.detect on the shared corpus' line-aligned MT files.

Every non-empty line of FLORES-200 dev, NTREX-128 and TICO-19 (Arabic sources, human English and Spanish
references) is detected on its own, as ``POST /detect`` would see a one-sentence request.  Per file it prints
how many lines get the file's language first (accuracy), how many Arabic lines get Arabic with a confidence
of at least --min-confidence (90 by default: the level tests/test_detect.py holds Arabic to; other languages
are capped at 80, so the column is "-" for them), the mean and minimum
confidence of that language where it comes first, and how many lines of a non-Arabic file were called Arabic
(the error that matters: tarjama would try to translate them).  A confusion table (file language ×
detected first language) follows, then the worst lines per file with --errors N.

    python bench/detect_accuracy.py                   # the corpus beside the checkout, or $TARJAMA_CORPUS
    python bench/detect_accuracy.py --corpus DIR --errors 5

The corpus is ../shared/corpus beside the checkout, or $TARJAMA_CORPUS, or --corpus DIR.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tarjama.translate.detect import Detection, detect_language

from tarjama.paths import corpus_dir

# file (relative to the corpus folder) → the language every line of it is written in
FILES = {
    "mt/flores200.dev.arb_Arab": "ar", "mt/ntrex128.shared.arb": "ar", "mt/tico19.test.arb": "ar",
    "mt/flores200.dev.eng_Latn": "en", "mt/ntrex128.shared.eng": "en", "mt/tico19.test.eng": "en",
    "mt/flores200.dev.spa_Latn": "es", "mt/ntrex128.shared.spa": "es", "mt/tico19.test.spa_LA": "es",
}


@dataclass
class FileResult:
    """What detection made of one file's lines."""

    language: str
    lines: int = 0
    correct: int = 0
    confident: int = 0
    as_arabic: int = 0
    confidences: list[float] = field(default_factory=list)
    detected: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[float, str, list[Detection]]] = field(default_factory=list)


def measure_file(path: Path, language: str, min_confidence: float) -> FileResult:
    """Detect every non-empty line of ``path``; keep the misses (and low-confidence hits) for --errors."""
    result = FileResult(language)
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        found = detect_language(line)
        best = found[0]
        result.lines += 1
        result.detected[best.language] += 1
        result.as_arabic += best.language == "ar" and language != "ar"
        if best.language == language:
            result.correct += 1
            result.confidences.append(best.confidence)
            result.confident += best.confidence >= min_confidence
        score = best.confidence if best.language == language else -best.confidence
        if best.language != language or (language == "ar" and best.confidence < min_confidence):
            result.misses.append((score, line, found))
    result.misses.sort(key=lambda m: m[0])
    return result


def report(results: dict[str, FileResult], min_confidence: float, errors: int) -> str:
    """The per-file table, the confusion table and, with ``errors``, the worst lines."""
    out = [f"{'file':<28} {'lang':<4} {'lines':>6} {'accuracy':>9} {f'≥{min_confidence:g}':>8} "
           f"{'mean conf':>9} {'min conf':>8} {'as ar':>6}"]
    for name, r in results.items():
        mean = statistics.fmean(r.confidences) if r.confidences else 0.0
        low = min(r.confidences, default=0.0)
        confident = f"{100 * r.confident / r.lines:>7.2f}%" if r.language == "ar" else f"{'-':>8}"
        out.append(f"{Path(name).name:<28} {r.language:<4} {r.lines:>6} {100 * r.correct / r.lines:>8.2f}% "
                   f"{confident} {mean:>9.1f} {low:>8.1f} {r.as_arabic:>6}")
    out += ["", "confusion (rows: the file's language, columns: the language detected first)"]
    confusion: dict[str, Counter[str]] = {}
    for r in results.values():
        confusion.setdefault(r.language, Counter()).update(r.detected)
    columns = sorted({lang for row in confusion.values() for lang in row},
                     key=lambda lang: (lang not in confusion, lang))
    out.append("      " + "".join(f"{c:>7}" for c in columns))
    for lang, row in confusion.items():
        out.append(f"{lang:<6}" + "".join(f"{row[c]:>7}" for c in columns))
    for name, r in results.items():
        for _, line, found in r.misses[:errors]:
            shown = ", ".join(f"{d.language} {d.confidence}" for d in found)
            out.append(f"{Path(name).name}: [{shown}] {line[:100]}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="the shared corpus folder (default: tarjama.paths.corpus_dir())")
    parser.add_argument("--min-confidence", type=float, default=90.0, help="the confidence column's threshold")
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="print the N worst lines per file")
    args = parser.parse_args(argv)
    corpus = args.corpus or corpus_dir()
    if corpus is None or not corpus.is_dir():
        print("the shared corpus was not found: pass --corpus DIR or set TARJAMA_CORPUS", file=sys.stderr)
        return 2
    missing = [name for name in FILES if not (corpus / name).is_file()]
    if missing:
        print(f"missing from {corpus}: {', '.join(missing)}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    results = {name: measure_file(corpus / name, lang, args.min_confidence) for name, lang in FILES.items()}
    seconds = time.perf_counter() - start
    print(report(results, args.min_confidence, args.errors))
    lines = sum(r.lines for r in results.values())
    print(f"\n{lines} lines in {seconds:.2f} s ({1000 * seconds / lines:.3f} ms a line)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
