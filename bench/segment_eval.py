"""Sentence-splitting accuracy on Arabic corpora with known sentence boundaries, and a boilerplate audit.

FLORES-200 holds one sentence per line: consecutive lines are joined (single space) into paragraphs
of 3–8 sentences (seeded sizes) and the splitter must find the line boundaries again. NTREX-128 and
TICO-19 are line-per-segment documents: each document is joined into one paragraph. A boundary is
the offset where a sentence starts inside a paragraph (paragraph edges do not count); a predicted
boundary is the first non-space offset of every span but the first.

Raw figures count every split inside a gold line as a false positive, yet many gold "lines" hold
two or more sentences (FLORES: 105 English lines do). The adjusted precision does not count a split
inside a line as an error while the line's English reference has at least that many sentences more
(a translator kept them apart too); such splits are reported as "tolerated". Lines without final
punctuation (headlines, TICO's spoken CMU phrases) are misses no splitter can avoid.

    python bench/segment_eval.py [--json] [--errors N] [--news N] [--corpus DIR]

The boilerplate audit runs clean() over every article in news/*.jsonl and reports what it removes.

pysbd (``pip install pysbd``) is scored side by side when importable; the product does not use it.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

Splitter = Callable[[str], list[tuple[int, int]]]

ROOT = Path(__file__).resolve().parents[1]
SEED = 20240601
SIZES = (3, 8)
# name: (Arabic file, English reference, document ids or None for the FLORES protocol)
SETS = {
    "flores200-dev": ("mt/flores200.dev.arb_Arab", "mt/flores200.dev.eng_Latn", None),
    "ntrex128": ("mt/ntrex128.shared.arb", "mt/ntrex128.shared.eng", "mt/ntrex128.shared.docids"),
    "tico19-test": ("mt/tico19.test.arb", "mt/tico19.test.eng", "mt/tico19.test.ids.tsv"),
}
NEWS = "news"

_FINAL = re.compile(r"[.!?؟…][\"'»”’)\]]*$")
_EN_CANDIDATE = re.compile(r"[.!?]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])|(?<=[a-z0-9)])[.!?](?=[A-Z][a-z])")
_EN_ABBREV = frozenset(
    re.findall(
        r"\S+",
        "mr mrs ms dr prof st jr sr inc ltd co corp no vs e.g i.e u.s u.k u.n a.m p.m gen gov sen rep "
        "rev lt col capt sgt mt ft det jan feb aug sep sept oct nov dec fig",
    )
)


@dataclass
class Line:
    text: str
    allowance: int = 0  # splits inside this line that the reference supports


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tolerated: int = 0
    fn_unpunctuated: int = 0  # misses after a line with no final punctuation (headlines, speech)
    paragraphs: int = 0
    exact: int = 0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        p, r = _ratio(self.tp, self.tp + self.fp), _ratio(self.tp, self.tp + self.fn)
        p_adj = _ratio(self.tp, self.tp + self.fp - self.tolerated)
        return {
            "paragraphs": self.paragraphs, "boundaries": self.tp + self.fn,
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "tolerated": self.tolerated,
            "fn_unpunctuated": self.fn_unpunctuated,
            "precision": round(p, 4), "recall": round(r, 4), "f1": round(_f1(p, r), 4),
            "precision_adjusted": round(p_adj, 4), "f1_adjusted": round(_f1(p_adj, r), 4),
            "paragraph_exact": round(_ratio(self.exact, self.paragraphs), 4), "errors": self.errors,
        }


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


# -------------------------------------------------------------------------------------------------
# data


def corpus_dir() -> Path:
    """``$TARJAMA_CORPUS``, else ``shared/corpus`` next to the repository (tarjama.paths says which)."""
    from tarjama.paths import corpus_path

    return corpus_path()


def read_lines(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [line.strip() for line in f.read().splitlines()]


def english_sentences(line: str) -> int:
    """How many sentences an English reference line holds (a plain rule; no dependency)."""
    n = 1
    for m in _EN_CANDIDATE.finditer(line):
        words = line[: m.start()].split()
        word = words[-1].lstrip("\"'“‘(").lower() if words else ""
        dotted = re.fullmatch(r"[a-z]|(?:[a-z]\.)+[a-z]", word)
        if line[m.start()] == "." and (word in _EN_ABBREV or dotted):
            continue
        n += 1
    return n


def chunk(lines: Sequence[Line], seed: int = SEED, sizes: tuple[int, int] = SIZES) -> list[list[Line]]:
    """Consecutive lines in groups of seeded random sizes (the last group may be shorter)."""
    rng = random.Random(seed)
    groups, i = [], 0
    while i < len(lines):
        n = rng.randint(*sizes)
        groups.append(list(lines[i : i + n]))
        i += n
    return groups


def load_set(corpus: Path, name: str) -> list[list[Line]] | None:
    """Paragraphs of one evaluation set, or None when its files are absent."""
    arabic, english, ids = SETS[name]
    paths = [corpus / p for p in (arabic, english, ids) if p]
    if not all(p.exists() for p in paths):
        return None
    ar, en = read_lines(corpus / arabic), read_lines(corpus / english)
    lines = [Line(a, english_sentences(e) - 1) for a, e in zip(ar, en, strict=True)]
    if ids is None:
        return chunk([line for line in lines if line.text])
    doc_ids = [row.split("\t")[-1] for row in read_lines(corpus / ids)]
    pairs = [(d, line) for d, line in zip(doc_ids, lines, strict=True) if line.text]
    return [[line for _, line in group] for _, group in groupby(pairs, key=lambda p: p[0])]


# -------------------------------------------------------------------------------------------------
# scoring


def evaluate_groups(groups: Sequence[Sequence[Line]], splitter: Splitter, errors: int = 0) -> dict:
    """Boundary precision/recall/F1 of ``splitter`` over paragraphs made of the given lines."""
    score = Score()
    for lines in groups:
        _score_paragraph(lines, splitter, score, errors)
    return score.as_dict()


def evaluate(lines: Sequence[str], splitter: Splitter, *, references: Sequence[str] | None = None,
             seed: int = SEED, errors: int = 0) -> dict:
    """The FLORES protocol: one sentence per line, joined into paragraphs of 3–8 sentences."""
    refs = references or [""] * len(lines)
    items = [Line(a, max(english_sentences(e) - 1, 0)) for a, e in zip(lines, refs, strict=True) if a]
    return evaluate_groups(chunk(items, seed), splitter, errors)


def _score_paragraph(lines: Sequence[Line], splitter: Splitter, score: Score, errors: int) -> None:
    text = " ".join(line.text for line in lines)
    starts, pos = [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line.text) + 1
    gold = set(starts[1:])
    pred = _predicted_boundaries(text, splitter(text))
    inside = Counter(_line_of(starts, b) for b in pred - gold)
    score.tp += len(gold & pred)
    score.fp += len(pred - gold)
    score.fn += len(gold - pred)
    score.tolerated += sum(min(n, lines[i].allowance) for i, n in inside.items())
    score.fn_unpunctuated += sum(not _FINAL.search(lines[_line_of(starts, b) - 1].text) for b in gold - pred)
    score.paragraphs += 1
    score.exact += gold == pred
    if len(score.errors) < errors:
        score.errors += _errors(text, gold, pred)[: errors - len(score.errors)]


def _line_of(starts: Sequence[int], offset: int) -> int:
    return max(i for i, s in enumerate(starts) if s <= offset)


def _predicted_boundaries(text: str, spans: Sequence[tuple[int, int]]) -> set[int]:
    starts = set()
    for start, end in spans[1:]:
        while start < end and text[start].isspace():
            start += 1
        starts.add(start)
    return starts


def _errors(text: str, gold: set[int], pred: set[int], width: int = 60) -> list[dict]:
    def around(i: int) -> str:
        return f"{text[max(0, i - width) : i]} ‖ {text[i : i + width]}"

    return [{"type": "fp", "at": around(i)} for i in sorted(pred - gold)] + [
        {"type": "fn", "at": around(i)} for i in sorted(gold - pred)
    ]


def pysbd_splitter() -> Splitter | None:
    """pysbd's Arabic segmenter as a span splitter, or None when pysbd is not installed."""
    try:
        import pysbd
    except ImportError:
        return None
    seg = pysbd.Segmenter(language="ar", clean=False)

    def split(text: str) -> list[tuple[int, int]]:
        spans, pos = [], 0
        for sent in seg.segment(text):
            sent = sent.strip()
            if sent:
                start = text.find(sent, pos)
                start = pos if start < 0 else start  # pysbd altered the text: keep the cursor
                spans.append((start, start + len(sent)))
                pos = start + len(sent)
        return spans

    return split


# -------------------------------------------------------------------------------------------------
# boilerplate audit on the news articles


def news_audit(corpus: Path, examples: int = 0) -> dict | None:
    """What cleaning removes from every article in ``news/*.jsonl``: counts, share, examples."""
    clean = _segment_module().clean
    files = sorted((corpus / NEWS).glob("*.jsonl"))
    if not files:
        return None
    kinds: Counter[str] = Counter()
    chars_in = chars_removed = articles = touched = 0
    shown: list[dict] = []
    for path in files:
        for row in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(row)
            _, removed = clean(record["text"])
            articles += 1
            chars_in += len(record["text"])
            lines = [r for r in removed if r.kind in ("boilerplate", "repeated_title", "separator")]
            chars_removed += sum(len(r.text) for r in lines)
            touched += bool(lines)
            kinds.update(r.kind for r in removed)
            shown += [{"id": record["id"], "kind": r.kind, "line": r.line, "text": r.text} for r in lines]
    return {
        "articles": articles, "articles_with_line_removals": touched, "chars": chars_in,
        "line_chars_removed": chars_removed, "share": round(chars_removed / max(chars_in, 1), 5),
        "kinds": dict(kinds.most_common()), "examples": shown[:examples] if examples else [],
    }


# -------------------------------------------------------------------------------------------------


def _segment_module():
    """translate.segment, importable when this file runs as a script from anywhere."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tarjama.translate import segment

    return segment


def run(corpus: Path, errors: int = 0) -> dict[str, dict[str, dict]]:
    """Scores of every available splitter on every available set."""
    splitters: dict[str, Splitter] = {"tarjama": _segment_module().split_sentences}
    if (sbd := pysbd_splitter()) is not None:
        splitters["pysbd"] = sbd
    results: dict[str, dict[str, dict]] = {}
    for name in SETS:
        groups = load_set(corpus, name)
        if groups is not None:
            results[name] = {label: evaluate_groups(groups, fn, errors) for label, fn in splitters.items()}
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--errors", type=int, default=0, help="show up to N errors per set and splitter")
    parser.add_argument("--news", type=int, default=0, metavar="N",
                        help="show N of the lines cleaning removes from news/*.jsonl")
    parser.add_argument("--corpus", type=Path, default=None, help="the shared corpus folder")
    args = parser.parse_args(argv)
    corpus = args.corpus or corpus_dir()
    results: dict = run(corpus, args.errors)
    if not results:
        print(f"no corpus under {corpus}", file=sys.stderr)
        return 2
    audit = news_audit(corpus, args.news)
    if args.json:
        print(json.dumps({"splitting": results, "news": audit}, ensure_ascii=False, indent=2))
        return 0
    _print_table(results)
    _print_errors(results)
    if audit:
        _print_audit(audit)
    return 0


def _print_table(results: dict[str, dict[str, dict]]) -> None:
    head = (
        "set", "splitter", "paras", "bounds", "P", "R", "F1", "FP", "FN", "FN_np", "tol", "P_adj", "F1_adj",
    )
    print("{:<14} {:<8} {:>5} {:>6} {:>6} {:>6} {:>6} {:>4} {:>4} {:>5} {:>4} {:>6} {:>6}".format(*head))
    for name, by_splitter in results.items():
        for label, r in by_splitter.items():
            print(
                f"{name:<14} {label:<8} {r['paragraphs']:>5} {r['boundaries']:>6} {r['precision']:>6.3f} "
                f"{r['recall']:>6.3f} {r['f1']:>6.3f} {r['fp']:>4} {r['fn']:>4} {r['fn_unpunctuated']:>5} "
                f"{r['tolerated']:>4} "
                f"{r['precision_adjusted']:>6.3f} {r['f1_adjusted']:>6.3f}"
            )


def _print_errors(results: dict[str, dict[str, dict]]) -> None:
    for name, by_splitter in results.items():
        for label, r in by_splitter.items():
            if r["errors"]:
                print(f"\n## {name} / {label}: errors")
                for e in r["errors"]:
                    print(f"  {e['type'].upper()}  {e['at']}")


def _print_audit(audit: dict) -> None:
    a = audit
    print(
        f"\n## news: {a['articles']} articles, {a['articles_with_line_removals']} with removed lines; "
        f"{a['line_chars_removed']} of {a['chars']} chars in removed lines ({a['share']:.3%})"
    )
    print("   removals by kind:", ", ".join(f"{k} {v}" for k, v in audit["kinds"].items()))
    for e in audit["examples"]:
        print(f"   {e['id']:<36} {e['kind']:<15} line {e['line']:>3}: {e['text'][:90]}")


if __name__ == "__main__":
    sys.exit(main())
