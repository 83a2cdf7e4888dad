"""``tarjama eval mt|summary``: score the models on test sets (or score outputs made elsewhere, with --hyp)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tarjama.cli.options import CliError, add_backend_option, quiet_libraries, read_glossary

MT_DESCRIPTION = """\
Translate a line-aligned Arabic test set with the ar-LANG model of models.yaml and score the output
against the human reference: corpus BLEU, chrF and chrF++ (sacrebleu; each printed with its signature,
which names the exact settings), how many sentences carry each tarjama flag, and the 10 lines with the
lowest sentence chrF.  With --hyp, score translations made before (or by another system) instead: no
model loads, and flags are unavailable."""

MT_EPILOG = """\
files: UTF-8 text, line N of --src, --ref and --hyp is one sentence; --src and --ref must have the same
number of lines (a --hyp file may instead hold exactly the lines of a --limit run).  A blank reference line
is left out of every score (and not translated); a blank source or hypothesis line is scored as it is.
--save writes one translation per source line (within --limit), so a later --hyp run scores it again.
The translation memory is not used: every sentence goes through the model.

examples:
  tarjama eval mt --src flores200.dev.arb_Arab --ref flores200.dev.eng_Latn --to en
  tarjama eval mt --src flores200.dev.arb_Arab --ref flores200.dev.spa_Latn --to es --limit 200 --save es.txt
  tarjama eval mt --hyp es.txt --ref flores200.dev.spa_Latn --src flores200.dev.arb_Arab --limit 200
  tarjama eval mt --src test.ar --ref test.en --to en --json > scores.json
"""

SUMMARY_DESCRIPTION = """\
Summarize the articles of a JSON Lines file with the summarization model of models.yaml and score the
summaries against the reference summaries with ROUGE-1, ROUGE-2 and ROUGE-L F1 (mean over documents),
beside two baselines scored on the same documents: lead-1 and lead-3 (the article's first 1 or 3
sentences).  With --hyp, score summaries made before (one per line, in the data's record order) instead:
no model loads."""

SUMMARY_EPILOG = """\
ROUGE: written in tarjama (tarjama/evaluation/metrics.py), counting as Google's rouge-score does, with a
tokenizer that keeps every script (rouge-score's default deletes all non-Latin letters): NFKC, lowercase,
Arabic diacritics and tatweel removed, tokens = runs of letters, marks and digits; punctuation and symbols
are dropped; no stemming.  ROUGE-L is the longest common subsequence over the whole summary.  A list in
the summary field (EASC's "summaries") gives several references: the best one per metric counts.

other languages: --lang en scores against English references (give their field with --summary-field,
e.g. summary_en): the Arabic summary and the lead baselines are translated with the ar-en model first.
With --hyp and --lang en the file must hold English summaries; the baselines then need a model run.

data: one JSON object per line; blank lines are ignored; --limit N takes the first N records.  A record
that is not valid JSON, lacks the text or the summary, or holds an article tarjama refuses (not Arabic,
nothing left after cleaning) is skipped with one warning line (FILE:LINE: why); the rest is scored and the
report counts the skipped ones.  --save writes one summary per record (blank for skipped ones), in the
--lang language: what a later --hyp run reads.

examples:
  tarjama eval summary --data ant_bbc_cnn_summaries.shared.jsonl --limit 50
  tarjama eval summary --data easc.shared.jsonl --summary-field summaries --save easc.summaries.txt
  tarjama eval summary --data easc.shared.jsonl --summary-field summaries --hyp easc.summaries.txt --json
  tarjama eval summary --data news.jsonl --summary-field summary_en --lang en
"""

EVAL_EPILOG = """\
examples:
  tarjama eval mt --src flores200.dev.arb_Arab --ref flores200.dev.eng_Latn --to en
  tarjama eval summary --data ant_bbc_cnn_summaries.shared.jsonl --limit 50
  tarjama eval mt --hyp out.en --ref flores200.dev.eng_Latn     # score a file made before: no model loads
"""

# (flags, argparse keyword arguments) of each subcommand, in --help order.
MT_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--src",), {"metavar": "FILE", "help": "Arabic source, one sentence per line (needed unless --hyp; with "
                                             "--hyp it only shows the source of the worst lines)"}),
    (("--ref",), {"metavar": "FILE", "required": True, "help": "human translations, line-aligned with --src"}),
    (("--to",), {"metavar": "LANG", "help": "target language, a translation model of models.yaml (en, es); "
                                            "needed unless --hyp"}),
    (("--hyp",), {"metavar": "FILE", "help": "score these translations (one per line) instead of translating"}),
    (("--limit",), {"type": int, "metavar": "N", "help": "only the first N lines"}),
    (("--glossary",), {"metavar": "FILE", "help": "translate with this glossary (as `tarjama translate` would)"}),
    (("--save",), {"metavar": "FILE", "help": "also write the translations here, one per line"}),
    (("--json",), {"action": "store_true", "help": "print one JSON object: scores, signatures, flag counts, worst "
                                                   "lines, settings, and the translations (or --save's path)"}),
    (("--quiet",), {"action": "store_true", "help": "no loading messages or progress bar on stderr"}),
]

SUMMARY_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--data",), {"metavar": "FILE", "required": True, "help": "JSON Lines: one article and its reference "
                                                                "summary (or summaries) per line"}),
    (("--text-field",), {"default": "text", "metavar": "NAME", "help": "article text field (default: text)"}),
    (("--summary-field",), {"default": "summary", "metavar": "NAME",
                            "help": "reference summary field, a string or a list of strings (default: summary)"}),
    (("--lang",), {"default": "ar", "metavar": "LANG",
                   "help": "language of the reference summaries (default: ar); another one (en, es) translates "
                           "the summaries and baselines into it first"}),
    (("--hyp",), {"metavar": "FILE", "help": "score these summaries (one per record, in order) instead of "
                                             "summarizing"}),
    (("--limit",), {"type": int, "metavar": "N", "help": "only the first N records"}),
    (("--save",), {"metavar": "FILE", "help": "also write the model's summaries here, one per record"}),
    (("--json",), {"action": "store_true", "help": "print one JSON object: scores per system, token counts, "
                                                   "per-document scores, skipped records, settings, summaries"}),
    (("--quiet",), {"action": "store_true", "help": "no loading messages or progress bar on stderr"}),
]


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("eval", help="score translations (BLEU, chrF) or summaries (ROUGE) on test sets",
                       description="Measure translation and summary quality on test sets with references.",
                       epilog=EVAL_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    esub = p.add_subparsers(dest="task", required=True, metavar="TASK")
    for name, help_, description, epilog, options, func in (
            ("mt", "translation: BLEU, chrF, chrF++, flags, worst lines", MT_DESCRIPTION, MT_EPILOG, MT_OPTIONS,
             cmd_eval_mt),
            ("summary", "summaries: ROUGE-1/2/L beside lead-1 and lead-3", SUMMARY_DESCRIPTION, SUMMARY_EPILOG,
             SUMMARY_OPTIONS, cmd_eval_summary)):
        t = esub.add_parser(name, parents=[common], help=help_, description=description, epilog=epilog,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        for flags, kwargs in options:
            t.add_argument(*flags, **kwargs)
        add_backend_option(t)
        t.set_defaults(func=func)


def cmd_eval_mt(args: argparse.Namespace) -> int:
    from tarjama.evaluation.runs import MtRun, render_mt, run_mt

    if args.hyp:
        for option, value in (("--save", args.save), ("--glossary", args.glossary)):
            if value:
                raise CliError(f"{option} needs a translation run: with --hyp nothing is translated", 2)
    else:
        missing = [o for o, v in (("--src", args.src), ("--to", args.to)) if not v]
        if missing:
            raise CliError(f"give {' and '.join(missing)} (or --hyp FILE to score translations made before)", 2)
        read_glossary(args.glossary)  # an unreadable file fails now, its unusable rows are named once
    run = MtRun(src=args.src, ref=args.ref, to=args.to, hyp=args.hyp, limit=args.limit, glossary=args.glossary,
                save=args.save, models=args.models, backend=args.backend, quiet=args.quiet)
    return _report(lambda: run_mt(run), render_mt, args)


def cmd_eval_summary(args: argparse.Namespace) -> int:
    from tarjama.evaluation.runs import SummaryRun, render_summary, run_summary

    if args.hyp and args.save:
        raise CliError("--save needs a summarization run: with --hyp nothing is summarized", 2)
    run = SummaryRun(data=args.data, text_field=args.text_field, summary_field=args.summary_field, lang=args.lang,
                     hyp=args.hyp, limit=args.limit, save=args.save, models=args.models, backend=args.backend,
                     quiet=args.quiet)
    return _report(lambda: run_summary(run), render_summary, args)


def _report(run, render, args: argparse.Namespace) -> int:
    from tarjama.evaluation.runs import EvalError

    if not args.hyp:
        quiet_libraries()  # models will load: keep stderr for tarjama's own messages
    try:
        report = run()
    except EvalError as err:
        raise CliError(str(err), err.code) from None
    sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n" if args.json else render(report))
    if args.save and not args.quiet:
        print(f"tarjama: wrote {args.save}", file=sys.stderr)
    return 0
