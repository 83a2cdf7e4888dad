"""Measure the length-ratio bounds that check_length flags outside of, into translate/length_bounds.json.

For every line-aligned sentence pair of the shared corpus' reference translations (FLORES-200 dev, NTREX-128,
TICO-19: human translations of the same Arabic sentences) the ratio is tarjama.translate.checks.length_ratio:
translation characters over source characters, whitespace and combining marks not counted, sources under
MIN_SOURCE_CHARS left out, exactly as check_length measures a model's output. Empty lines are left out.
The bounds are the 1st and 99th percentiles of the ratios per pair, by linear interpolation between the
closest ranks (statistics.quantiles(method="inclusive"), numpy's default), rounded to 3 decimals: a good
human translation falls outside them about 2% of the time, a truncated or looping one nearly always.

    python bench/length_bounds.py            # measure and write translate/length_bounds.json
    python bench/length_bounds.py --check    # measure and exit 1 if the file differs (CI, after a change)
    python bench/length_bounds.py --print    # measure and print the JSON, write nothing

The corpus is ../shared/corpus beside the checkout, or $TARJAMA_CORPUS, or --corpus DIR. Change
check_length's definition (text_length, MIN_SOURCE_CHARS) and this must be re-run: --check says so.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from tarjama.translate.checks import BOUNDS_FILE, MIN_SOURCE_CHARS, length_ratio

from tarjama.paths import corpus_dir

COMMAND = "python bench/length_bounds.py"
# pair: (Arabic file, translation file) per corpus, relative to the corpus folder
PAIRS = {
    "ar-en": [("mt/flores200.dev.arb_Arab", "mt/flores200.dev.eng_Latn"),
              ("mt/ntrex128.shared.arb", "mt/ntrex128.shared.eng"),
              ("mt/tico19.test.arb", "mt/tico19.test.eng")],
    "ar-es": [("mt/flores200.dev.arb_Arab", "mt/flores200.dev.spa_Latn"),
              ("mt/ntrex128.shared.arb", "mt/ntrex128.shared.spa"),
              ("mt/tico19.test.arb", "mt/tico19.test.spa_LA")],
}
DEFINITION = (f"ratio = characters of the translation / characters of the source, whitespace and combining marks "
              f"(Mn) not counted (tarjama.translate.checks.length_ratio); sources under {MIN_SOURCE_CHARS} such "
              f"characters and empty lines left out; low/high = 1st/99th percentile, linear interpolation between "
              f"closest ranks (statistics.quantiles, method='inclusive'), rounded to 3 decimals")


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def ratios(corpus: Path, files: list[tuple[str, str]]) -> list[float]:
    """Every measured ratio of the pair's files, in file and line order."""
    out: list[float] = []
    for source_file, target_file in files:
        sources, targets = read_lines(corpus / source_file), read_lines(corpus / target_file)
        if len(sources) != len(targets):
            raise SystemExit(f"{source_file} has {len(sources)} lines, {target_file} {len(targets)}: not aligned")
        for source, target in zip(sources, targets):
            ratio = length_ratio(source, target) if source.strip() and target.strip() else None
            if ratio is not None:
                out.append(ratio)
    return out


def measure(corpus: Path) -> dict:
    """The contents of length_bounds.json, measured on ``corpus``."""
    pairs = {}
    for pair, files in PAIRS.items():
        values = ratios(corpus, files)
        percentiles = statistics.quantiles(values, n=100, method="inclusive")
        pairs[pair] = {"low": round(percentiles[0], 3), "high": round(percentiles[98], 3),
                       "median": round(statistics.median(values), 3), "sentences": len(values)}
    files = sorted({f for fs in PAIRS.values() for pair in fs for f in pair})
    return {"command": COMMAND, "definition": DEFINITION, "corpus": files, "pairs": pairs}


def render(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="recompute; exit 1 if the bounds file differs")
    mode.add_argument("--print", action="store_true", help="recompute and print the JSON; write nothing")
    parser.add_argument("--corpus", type=Path, help="the shared corpus folder (default: tarjama.paths.corpus_dir())")
    parser.add_argument("--out", type=Path, default=BOUNDS_FILE, help=f"bounds file (default: {BOUNDS_FILE})")
    args = parser.parse_args(argv)
    corpus = args.corpus or corpus_dir()
    if corpus is None or not corpus.is_dir():
        print("the shared corpus was not found: pass --corpus DIR or set TARJAMA_CORPUS", file=sys.stderr)
        return 2
    data = measure(corpus)
    text = render(data)
    if args.print:
        sys.stdout.write(text)
        return 0
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale or missing: run `{COMMAND}` and keep the file it writes.\nmeasured:\n{text}",
                  file=sys.stderr)
            return 1
        print(f"{args.out} matches the corpus")
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: " + "; ".join(f"{p} {b['low']}–{b['high']}× (median {b['median']}, "
                                            f"{b['sentences']} sentences)" for p, b in data["pairs"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
